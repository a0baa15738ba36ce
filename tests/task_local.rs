//! Local (`!Send`) tasks: they run, and are dropped, only on the thread that created them —
//! whoever wakes them, from whatever thread, while the other workers steal everything else.

#[macro_use]
mod support;

use ringloop::{create_local_task, create_task, yield_now, TaskState};
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::thread::{self, ThreadId};
use support::{oneshot, yield_until};

/// Wraps a future and records the thread of every poll and of the drop.
struct OnThread<F> {
    future: Pin<Box<F>>,
    threads: Arc<Mutex<Vec<ThreadId>>>,
}

impl<F> OnThread<F> {
    fn new(future: F, threads: Arc<Mutex<Vec<ThreadId>>>) -> OnThread<F> {
        OnThread {
            future: Box::pin(future),
            threads,
        }
    }
}

impl<F: Future> Future for OnThread<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.threads.lock().unwrap().push(thread::current().id());
        self.future.as_mut().poll(cx)
    }
}

impl<F> Drop for OnThread<F> {
    fn drop(&mut self) {
        self.threads.lock().unwrap().push(thread::current().id());
    }
}

/// Asserts every recorded thread is the same; returns it.
#[track_caller]
fn one_thread(threads: &Mutex<Vec<ThreadId>>) -> ThreadId {
    let threads = threads.lock().unwrap();
    assert!(threads.len() >= 2, "polled and dropped: {threads:?}");
    assert!(
        threads.iter().all(|t| *t == threads[0]),
        "a local task moved: {threads:?}"
    );
    threads[0]
}

/// A local task that yields `rounds` times, and waits once for a value sent from another
/// OS thread, all while holding an `Rc`.
async fn wandering_local_task(rounds: usize) -> usize {
    let rc = Rc::new(RefCell::new(0));
    let (tx, rx) = oneshot::channel::<usize>();
    let sender = thread::spawn(move || tx.send(1).unwrap());
    for _ in 0..rounds {
        *rc.borrow_mut() += 1;
        yield_now().await;
    }
    *rc.borrow_mut() += rx.await.unwrap();
    sender.join().unwrap();
    let total = *rc.borrow();
    total
}

rt_test! {
    fn a_non_send_local_task(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let shared = Rc::new(RefCell::new(Vec::new()));
            let task = create_local_task({
                let shared = shared.clone();
                async move {
                    shared.borrow_mut().push(1);
                    yield_now().await;
                    // A local task can spawn local tasks that share its `Rc`s.
                    let inner = create_local_task({
                        let shared = shared.clone();
                        async move { shared.borrow_mut().push(2) }
                    });
                    inner.await.unwrap();
                    // And return a `!Send` value.
                    shared
                }
            });
            let returned: Rc<RefCell<Vec<i32>>> = task.await.unwrap();
            assert!(Rc::ptr_eq(&returned, &shared));
            assert_eq!(*shared.borrow(), [1, 2]);
        });
    }

    fn local_tasks_of_the_block_on_thread_stay_there(flavor: Flavor) {
        let rt = flavor.runtime();
        let threads: Vec<_> = (0..8).map(|_| Arc::new(Mutex::new(Vec::new()))).collect();
        rt.block_on(async {
            let tasks: Vec<_> = threads
                .iter()
                .map(|t| create_local_task(OnThread::new(wandering_local_task(50), t.clone())))
                .collect();
            // Busy `Send` tasks meanwhile, for the workers to share.
            let busy: Vec<_> = (0..32)
                .map(|_| create_task(async { for _ in 0..50 { yield_now().await } }))
                .collect();
            for task in tasks {
                assert_eq!(task.await.unwrap(), 51);
            }
            for task in busy {
                task.await.unwrap();
            }
        });
        for t in &threads {
            assert_eq!(one_thread(t), thread::current().id());
        }
    }

    fn local_tasks_of_workers_stay_on_their_worker(flavor: Flavor) {
        let rt = flavor.runtime();
        let threads: Vec<_> = (0..12).map(|_| Arc::new(Mutex::new(Vec::new()))).collect();
        rt.block_on(async {
            // Send tasks (which may run on any worker) each create local tasks where they run.
            let spawners: Vec<_> = threads
                .chunks(3)
                .map(|chunk| {
                    let chunk = chunk.to_vec();
                    create_task(async move {
                        let locals: Vec<_> = chunk
                            .into_iter()
                            .map(|t| create_local_task(OnThread::new(wandering_local_task(50), t)))
                            .collect();
                        let mut sum = 0;
                        for local in locals {
                            sum += local.await.unwrap();
                        }
                        sum
                    })
                })
                .collect();
            let busy: Vec<_> = (0..32)
                .map(|_| create_task(async { for _ in 0..50 { yield_now().await } }))
                .collect();
            for spawner in spawners {
                assert_eq!(spawner.await.unwrap(), 3 * 51);
            }
            for task in busy {
                task.await.unwrap();
            }
        });
        for t in &threads {
            let thread = one_thread(t);
            if flavor.is_multi_thread() {
                assert_ne!(thread, thread::current().id());
            }
        }
    }

    fn a_local_task_woken_from_another_thread(flavor: Flavor) {
        let rt = flavor.runtime();
        let threads = Arc::new(Mutex::new(Vec::new()));
        // Created on a worker (on the block_on thread for the single-threaded runtime), left
        // idle, and woken from a thread that is not part of the runtime.
        let (tx, rx) = oneshot::channel::<String>();
        let (value, task_thread) = rt.block_on(async {
            let recorded = threads.clone();
            let task = support::local_task_on_a_worker(move || {
                OnThread::new(
                    async move {
                        let held = Rc::new(thread::current().id());
                        let text = rx.await.unwrap();
                        assert_eq!(*held, thread::current().id());
                        (text.len(), *held)
                    },
                    recorded,
                )
            })
            .await;
            yield_until("the local task waits", || task.info().state == TaskState::Idle).await;
            thread::spawn(move || tx.send("woken".to_owned()).unwrap()).join().unwrap();
            task.await.unwrap()
        });
        assert_eq!(value, 5);
        assert_eq!(one_thread(&threads), task_thread);
        if flavor.is_multi_thread() {
            assert_ne!(task_thread, thread::current().id());
        }
    }

    fn a_local_task_on_a_sleeping_worker_is_woken_from_another_thread(flavor: Flavor) {
        let rt = flavor.runtime();
        // Many rounds: each time the worker owning the task goes to sleep first.
        rt.block_on(async {
            for round in 0..20 {
                let (tx, rx) = oneshot::channel::<usize>();
                let task =
                    support::local_task_on_a_worker(move || async move { rx.await.unwrap() + 1 })
                        .await;
                yield_until("the local task waits", || task.info().state == TaskState::Idle).await;
                std::thread::sleep(std::time::Duration::from_millis(1));
                thread::spawn(move || tx.send(round).unwrap()).join().unwrap();
                assert_eq!(task.await.unwrap(), round + 1);
            }
        });
    }
}
