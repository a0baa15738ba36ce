//! The thread in `block_on` serves its own ring even while its future never parks: a future
//! that busy-yields until a timer on that thread fires must see it fire.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn runtimes() -> Vec<ringloop::Runtime> {
    vec![
        ringloop::Runtime::builder()
            .single_threaded()
            .build()
            .unwrap(),
        ringloop::Runtime::builder()
            .worker_threads(1)
            .build()
            .unwrap(),
        ringloop::Runtime::builder()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

#[test]
fn a_busy_yielding_block_on_future_still_sees_its_timers() {
    for rt in runtimes() {
        rt.block_on(async {
            let fired = Arc::new(AtomicBool::new(false));
            let flag = fired.clone();
            // A local task: its sleep is on this thread's ring.
            let sleeper = ringloop::create_local_task(async move {
                ringloop::sleep(Duration::from_millis(5)).await.unwrap();
                flag.store(true, Ordering::SeqCst);
            });
            let mut spins = 0u64;
            while !fired.load(Ordering::SeqCst) {
                ringloop::yield_now().await;
                spins += 1;
                assert!(spins < 50_000_000, "the timer never fired");
            }
            sleeper.await.unwrap();
        });
    }
}
