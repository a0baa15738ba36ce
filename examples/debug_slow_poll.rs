//! Debug mode catching a blocking call in a task (asyncio's debug mode, which logs "Executing
//! <Task ...> took 0.300 seconds").
//!
//! ```python
//! async def handler():
//!     time.sleep(0.3)                     # a blocking call: holds the loop
//!
//! async def fixed_handler():
//!     await asyncio.to_thread(time.sleep, 0.3)
//!
//! async def main():
//!     await asyncio.create_task(handler(), name="handler")
//!     await asyncio.create_task(fixed_handler(), name="fixed_handler")
//!
//! logging.basicConfig(level=logging.DEBUG)
//! asyncio.run(main(), debug=True)         # or PYTHONASYNCIODEBUG=1
//! ```
//!
//! `Runtime::builder().debug(true)` (or the environment variable `RINGLOOP_DEBUG=1`) times
//! every poll of every task; one that holds its thread for longer than
//! `slow_poll_threshold` (100 ms by default, 50 ms here) is reported through the `log`
//! crate with the task's id and name. On the multi-threaded runtime a watchdog thread also
//! reports a poll that is *still* running past the threshold, so a task stuck for good in a
//! blocking call shows up too.
//!
//! The reports go to whatever logger the program installed; with none, they are lost. This
//! example installs a ten-line logger that prints to stderr (a real program would use a
//! logging crate such as `env_logger`).
//!
//! Run with `cargo run --example debug_slow_poll`.

use ringloop::{Runtime, TaskBuilder};
use std::time::{Duration, Instant};

/// Prints every log record at `Info` level or above to stderr, with the thread's name.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Info
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            let thread = std::thread::current();
            let thread = thread.name().unwrap_or("?");
            eprintln!("{:<5} [{thread}] {}", record.level(), record.args());
        }
    }

    fn flush(&self) {}
}

fn main() -> std::io::Result<()> {
    log::set_logger(&StderrLogger).expect("no other logger is installed");
    log::set_max_level(log::LevelFilter::Info);

    let runtime = Runtime::builder()
        .worker_threads(2)
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(50))
        .build()?;
    runtime.block_on(async {
        let start = Instant::now();

        println!(
            "[{:.2?}] running `handler`, which blocks its worker for 300 ms",
            start.elapsed()
        );
        let handler = TaskBuilder::new().name("handler").spawn(async {
            std::thread::sleep(Duration::from_millis(300)); // blocking: the mistake to catch
        });
        handler.await.expect("handler failed");
        println!(
            "[{:.2?}] handler done: the warnings above name it",
            start.elapsed()
        );

        println!(
            "[{:.2?}] running `fixed_handler`, which uses to_thread",
            start.elapsed()
        );
        let fixed = TaskBuilder::new().name("fixed_handler").spawn(async {
            ringloop::to_thread(|| std::thread::sleep(Duration::from_millis(300))).await
        });
        fixed
            .await
            .expect("fixed_handler failed")
            .expect("sleep panicked");
        println!(
            "[{:.2?}] fixed_handler done: no warning this time",
            start.elapsed()
        );
    });
    Ok(())
}
