//! The loop's callbacks (asyncio's `call_soon`, `call_soon_threadsafe`, `call_later`,
//! `call_at`): order, cancellation, threads, and timers that never fire early.

#[macro_use]
mod support;

use ringloop::Handle;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use support::{expect_panic, yield_until};

rt_test! {
    fn call_soon_runs_callbacks_in_order_on_this_thread(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            let handle = Handle::current();
            let here = std::thread::current().id();
            for i in 0..50 {
                let log = log.clone();
                handle.call_soon(move || log.borrow_mut().push((i, std::thread::current().id())));
            }
            yield_until("every callback ran", || log.borrow().len() == 50).await;
            let log = log.borrow();
            assert!(log.iter().enumerate().all(|(i, (n, _))| i == *n), "out of order");
            assert!(log.iter().all(|(_, thread)| *thread == here));
        });
    }

    fn a_cancelled_callback_never_runs(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let ran = Rc::new(RefCell::new(false));
            let flag = ran.clone();
            let handle = Handle::current().call_soon(move || *flag.borrow_mut() = true);
            assert!(handle.cancel());
            assert!(handle.cancelled());
            assert!(!handle.cancel());
            let after = Handle::current().call_soon(|| {});
            yield_until("a later callback ran", || after.is_done()).await;
            assert!(!*ran.borrow());
            assert!(handle.when().is_none());
        });
    }

    fn call_soon_threadsafe_from_a_plain_thread(flavor: Flavor) {
        let rt = flavor.runtime();
        let handle = rt.handle().clone();
        let count = Arc::new(AtomicUsize::new(0));
        let thread = {
            let count = count.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let count = count.clone();
                    handle.call_soon_threadsafe(move || {
                        assert!(ringloop::current_task().is_some());
                        count.fetch_add(1, Ordering::SeqCst);
                    });
                }
            })
        };
        thread.join().unwrap();
        rt.block_on(async {
            yield_until("every callback ran", || count.load(Ordering::SeqCst) == 100).await;
        });
    }

    fn call_later_fires_in_deadline_order_and_never_early(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            let handle = Handle::current();
            let start = Instant::now();
            // 100 ms apart (more than a timer-wheel slot), scheduled out of order.
            for ms in [200u64, 0, 100] {
                let log = log.clone();
                let timer = handle.call_later(Duration::from_millis(ms), move || {
                    log.borrow_mut().push((ms, start.elapsed()));
                });
                assert!(timer.when().unwrap() >= start + Duration::from_millis(ms));
            }
            // Sleep rather than yield while waiting: a `block_on` future that only yields
            // never lets its thread's driver fire timers (reported to the scheduler's owner).
            while log.borrow().len() < 3 {
                assert!(start.elapsed() < support::PATIENCE, "the timers never fired");
                ringloop::sleep(Duration::from_millis(1)).await.unwrap();
            }
            let log = log.borrow();
            let order: Vec<u64> = log.iter().map(|(ms, _)| *ms).collect();
            assert_eq!(order, [0, 100, 200]);
            for (ms, at) in log.iter() {
                assert!(*at >= Duration::from_millis(*ms), "fired early: {ms} ms at {at:?}");
            }
        });
    }

    fn call_at_can_be_cancelled_before_its_deadline(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let handle = Handle::current();
            let fired = Rc::new(RefCell::new(false));
            let flag = fired.clone();
            let timer = handle.call_at(Instant::now() + Duration::from_millis(20), move || {
                *flag.borrow_mut() = true;
            });
            assert!(timer.cancel());
            ringloop::sleep(Duration::from_millis(40)).await.unwrap();
            assert!(!*fired.borrow());
            assert!(timer.cancelled());
        });
    }

    fn call_soon_off_the_loop_thread_panics(flavor: Flavor) {
        let rt = flavor.runtime();
        let handle = rt.handle().clone();
        let message = std::thread::spawn(move || expect_panic(|| handle.call_soon(|| {})))
            .join()
            .unwrap();
        assert!(message.contains("call_soon_threadsafe"), "{message}");
        // Nor from a thread of another runtime.
        let other = support::Flavor::SingleThreaded.runtime();
        let handle = rt.handle().clone();
        let message = other.block_on(async move { expect_panic(|| handle.call_later(Duration::ZERO, || {})) });
        assert!(message.contains("must be called from a thread that runs this runtime"), "{message}");
    }

    fn a_panicking_callback_does_not_stop_the_loop(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let handle = Handle::current();
            let bad = handle.call_soon(|| panic!("callback failed"));
            let (tx, rx) = mpsc::channel();
            handle.call_soon(move || tx.send(()).unwrap());
            yield_until("the next callback ran", || rx.try_recv().is_ok()).await;
            yield_until("the bad callback is done", || bad.is_done()).await;
            assert!(!bad.cancelled());
        });
    }
}

#[test]
fn call_handle_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ringloop::CallHandle>();
}
