//! loom model of the hand-off between work producers, searching workers and the parker: the
//! protocol of `idle.rs` with the real [`Idle`] and [`ThreadParker`], and the same steps as
//! `worker.rs` (search, register as sleeper, fence, re-check if last searcher, park, decide
//! why we woke). Queues are mutex-protected `VecDeque`s, which loom can see (the real ones
//! are crossbeam deques, which it cannot). A lost wake-up shows as a deadlock: every thread
//! parked with work still queued.

use super::idle::Idle;
use crate::loom::{fence, Ordering};
use crate::park::{Park, ThreadParker, Unparker};
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::collections::VecDeque;

struct Model {
    idle: Idle,
    injector: Mutex<VecDeque<u32>>,
    deques: Vec<Mutex<VecDeque<u32>>>,
    unparkers: Vec<Unparker>,
    done: AtomicUsize,
    total: usize,
    shutdown: AtomicBool,
}

impl Model {
    fn notify_parked(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.unparkers[worker].unpark();
        }
    }

    fn has_stealable_work(&self) -> bool {
        !self.injector.lock().unwrap().is_empty()
            || self.deques.iter().any(|d| !d.lock().unwrap().is_empty())
    }

    fn pop_any(&self, me: usize) -> Option<u32> {
        if let Some(v) = self.deques[me].lock().unwrap().pop_front() {
            return Some(v);
        }
        self.injector.lock().unwrap().pop_front()
    }

    fn steal(&self, me: usize) -> Option<u32> {
        for (i, deque) in self.deques.iter().enumerate() {
            if i != me {
                if let Some(v) = deque.lock().unwrap().pop_front() {
                    return Some(v);
                }
            }
        }
        self.injector.lock().unwrap().pop_front()
    }

    /// Processing a job may create another job on this worker (a spawn).
    fn process(&self, me: usize, job: u32) {
        if job > 0 {
            self.deques[me].lock().unwrap().push_back(job - 1);
            self.notify_parked();
        }
        if self.done.fetch_add(1, Ordering::SeqCst) + 1 == self.total {
            self.shutdown.store(true, Ordering::SeqCst);
            for unparker in &self.unparkers {
                unparker.unpark();
            }
        }
    }
}

fn worker(model: Arc<Model>, me: usize, mut parker: ThreadParker) {
    let mut searching = false;
    while !model.shutdown.load(Ordering::SeqCst) {
        let mut job = model.pop_any(me);
        if job.is_none() {
            if !searching {
                searching = model.idle.transition_worker_to_searching();
            }
            if searching {
                job = model.steal(me);
            }
        }
        if let Some(job) = job {
            if searching {
                searching = false;
                if model.idle.transition_worker_from_searching() {
                    model.notify_parked();
                }
            }
            model.process(me, job);
            continue;
        }
        // Park, exactly as `Core::park` does.
        let last = model.idle.transition_worker_to_parked(me, searching);
        fence(Ordering::SeqCst);
        if last && model.has_stealable_work() {
            model.notify_parked();
        }
        loop {
            parker.park(None);
            if model.shutdown.load(Ordering::SeqCst) {
                return;
            }
            if !model.idle.is_parked(me) {
                searching = true;
                break;
            }
        }
    }
}

/// Two workers, one outside producer pushing `jobs` chains into the injector.
fn run_model(jobs: &'static [u32]) {
    loom::model(move || {
        let parkers: Vec<ThreadParker> = (0..2).map(|_| ThreadParker::new()).collect();
        let total = jobs.iter().map(|&j| j as usize + 1).sum();
        let model = Arc::new(Model {
            idle: Idle::new(2),
            injector: Mutex::new(VecDeque::new()),
            deques: (0..2).map(|_| Mutex::new(VecDeque::new())).collect(),
            unparkers: parkers.iter().map(|p| p.unparker()).collect(),
            done: AtomicUsize::new(0),
            total,
            shutdown: AtomicBool::new(false),
        });
        let threads: Vec<_> = parkers
            .into_iter()
            .enumerate()
            .map(|(me, parker)| {
                let model = model.clone();
                thread::spawn(move || worker(model, me, parker))
            })
            .collect();
        for &job in jobs {
            model.injector.lock().unwrap().push_back(job);
            model.notify_parked();
        }
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(model.done.load(Ordering::SeqCst), total);
    });
}

#[test]
fn loom_idle_injected_job_is_picked_up() {
    run_model(&[0]);
}

#[test]
fn loom_idle_spawned_job_is_stolen_or_run() {
    run_model(&[1]);
}
