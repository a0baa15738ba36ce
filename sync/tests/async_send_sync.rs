//! Every public type and future is `Send`/`Sync`/`Unpin` as promised (compile-time checks).
#![cfg(not(loom))]
#![allow(dead_code)]

use ringloop_sync::*;

fn send<T: Send>() {}
fn sync<T: Sync>() {}
fn unpin<T: Unpin>() {}
fn all<T: Send + Sync + Unpin>() {}

#[test]
fn primitives_are_send_sync_unpin() {
    all::<Lock>();
    all::<Mutex<Vec<u8>>>();
    all::<Event>();
    all::<Condition<Vec<u8>>>();
    all::<Semaphore>();
    all::<BoundedSemaphore>();
    all::<Barrier>();
    all::<Queue<Vec<u8>>>();
    all::<LifoQueue<Vec<u8>>>();
    all::<PriorityQueue<Vec<u8>>>();
    // A mutex shares its data between threads one at a time: `Send` data is enough.
    sync::<Mutex<std::cell::Cell<u8>>>();
    sync::<Queue<std::cell::Cell<u8>>>();
}

#[test]
fn guards_and_futures_are_send_and_unpin() {
    all::<SemaphorePermit<'static>>();
    all::<OwnedSemaphorePermit>();
    all::<Acquire<'static>>();
    all::<AcquireOwned>();
    all::<MutexGuard<'static, Vec<u8>>>();
    all::<MutexLock<'static, Vec<u8>>>();
    all::<LockGuard<'static>>();
    all::<LockAcquire<'static>>();
    all::<EventWait<'static>>();
    all::<ConditionWait<'static, Vec<u8>>>();
    all::<ConditionWaitFor<'static, Vec<u8>, fn(&mut Vec<u8>) -> bool>>();
    all::<BarrierWait<'static>>();
    all::<Put<'static, Vec<u8>>>();
    all::<Get<'static, Vec<u8>>>();
    all::<Join<'static, Vec<u8>>>();
    // Not-Unpin closures still give an Unpin wait_for future.
    unpin::<ConditionWaitFor<'static, (), std::marker::PhantomPinned>>();
}

#[test]
fn guard_of_non_sync_data_can_move_between_threads() {
    send::<MutexGuard<'static, std::cell::Cell<u8>>>();
}

#[test]
fn errors_are_send_sync_errors() {
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    error::<TryAcquireError>();
    error::<ReleaseError>();
    error::<TryLockError>();
    error::<TryPutError<u8>>();
    error::<TryGetError>();
    error::<QueueShutDown<u8>>();
    error::<QueueShutDown>();
    error::<TaskDoneError>();
}
