//! Done callbacks: `Task::add_done_callback` and `FutureCell::add_done_callback` (asyncio's
//! `add_done_callback` on a task and on a future).
//!
//! ```python
//! def report(task):
//!     print(f"{task.get_name()} finished, cancelled={task.cancelled()}")
//!
//! async def main():
//!     work = asyncio.create_task(asyncio.sleep(0.2, "ok"), name="work")
//!     work.add_done_callback(report)
//!     stuck = asyncio.create_task(asyncio.sleep(3600), name="stuck")
//!     stuck.add_done_callback(report)
//!     stuck.cancel()
//!     fut = asyncio.get_running_loop().create_future()
//!     fut.add_done_callback(lambda f: print("future done:", f.result()))
//!     fut.set_result(42)
//!     ...
//! ```
//!
//! Differences from asyncio:
//! * a task's callback receives a `TaskInfo` snapshot (id, name, final state), not the task:
//!   the result belongs to whoever awaits the handle. It runs on the thread that completed
//!   the task, right after it completed (or at once, if the task was already done), not
//!   scheduled with `call_soon`; so keep it short and non-blocking.
//! * a `FutureCell`'s callback receives the future and can read `result()`; it runs as a
//!   task of the runtime, never inside the `set_result` call.
//!
//! Callbacks are plain closures (`FnOnce + Send`), so they cannot `.await`. These report back
//! to `main` through a `Queue`, whose `put_nowait` needs no `.await`.
//!
//! Run with `cargo run --example done_callbacks`.

use ringloop::sync::Queue;
use ringloop::{TaskBuilder, TaskInfo};
use std::sync::Arc;
use std::time::Duration;

fn main() {
    ringloop::run(async {
        let reports = Arc::new(Queue::<String>::new(0)); // 0: unbounded
        let report = |reports: &Arc<Queue<String>>| {
            let reports = reports.clone();
            move |info: &TaskInfo| {
                let name = info.name.as_deref().unwrap_or("unnamed");
                let line = format!("{} ({name}) finished: {:?}", info.id, info.state);
                reports.put_nowait(line).expect("unbounded queue");
            }
        };

        let work = TaskBuilder::new().name("work").spawn(async {
            ringloop::sleep(Duration::from_millis(200))
                .await
                .expect("timer");
            "ok"
        });
        work.add_done_callback(report(&reports));

        let stuck = TaskBuilder::new()
            .name("stuck")
            .spawn(std::future::pending::<()>());
        stuck.add_done_callback(report(&reports));
        stuck.cancel();

        let fut = ringloop::create_future::<u32>();
        let to_main = reports.clone();
        fut.add_done_callback(move |fut| {
            let line = format!("future finished: {:?}", fut.result());
            to_main.put_nowait(line).expect("unbounded queue");
        });
        fut.set_result(42).expect("the future was pending");

        // The handles still give the outcomes to whoever awaits them.
        println!("work gave {:?}", work.await);
        println!("stuck gave {:?}", stuck.await);

        // A callback added to a task that is already done runs at once, on this thread.
        let quick = TaskBuilder::new().name("quick").spawn(async { 1 });
        while !quick.is_done() {
            ringloop::yield_now().await;
        }
        quick.add_done_callback(report(&reports));

        for _ in 0..4 {
            println!("callback: {}", reports.get().await.expect("queue is open"));
        }
    });
}
