//! Panics in tasks: propagated to whoever awaits (`Err(Panicked)` with the message), harmless
//! to the worker that ran them, and — when nobody awaits — reported through the `log` facade
//! (asyncio's "Task exception was never retrieved"), never printed. A waker that panics when
//! the runtime wakes or drops it (the waker a task's handle was polled with) is reported the
//! same way, and the runtime carries on.

#[macro_use]
mod support;

use log::{Level, LevelFilter, Log, Metadata, Record};
use ringloop::{create_local_task, create_task, yield_now, TaskBuilder, TaskError};
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use support::wakers::{bomb_waker, on_a_thread};
use support::{oneshot, wait_until, yield_until, Flavor};

/// Every record logged in this test binary.
struct CaptureLog {
    records: Mutex<Vec<(Level, String)>>,
}

impl Log for CaptureLog {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &Record<'_>) {
        let text = record.args().to_string();
        self.records.lock().unwrap().push((record.level(), text));
    }
    fn flush(&self) {}
}

static LOG: CaptureLog = CaptureLog {
    records: Mutex::new(Vec::new()),
};

fn install_logger() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&LOG).expect("no other logger in this test binary");
        log::set_max_level(LevelFilter::Trace);
    });
}

/// The records that mention `needle` (tests in this binary run at once: each uses its own
/// task names).
fn records_with(needle: &str) -> Vec<(Level, String)> {
    let records = LOG.records.lock().unwrap();
    records
        .iter()
        .filter(|(_, text)| text.contains(needle))
        .cloned()
        .collect()
}

/// Waits for exactly one record mentioning `needle` and returns its text; it must be an error.
#[track_caller]
fn expect_one_error(needle: &str) -> String {
    wait_until(&format!("a log record about {needle}"), || {
        !records_with(needle).is_empty()
    });
    let records = records_with(needle);
    assert_eq!(records.len(), 1, "{records:?}");
    let (level, text) = records.into_iter().next().unwrap();
    assert_eq!(level, Level::Error, "{text}");
    text
}

/// A future that returns `value` and panics when dropped.
struct PanicOnDrop<T>(Option<T>);

impl<T: Unpin> Future for PanicOnDrop<T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<T> {
        Poll::Ready(self.0.take().expect("polled after completion"))
    }
}

impl<T> Drop for PanicOnDrop<T> {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("PanicOnDrop dropped");
        }
    }
}

/// A value that panics when dropped.
struct BombOutput;

impl Drop for BombOutput {
    fn drop(&mut self) {
        panic!("BombOutput dropped");
    }
}

/// Awaits `task` after polling it once with a [`bomb_waker`], which thus becomes the waker
/// its completion wakes; then yields until the task is done and reads its output.
struct AwaitWithBomb<T> {
    task: ringloop::Task<T>,
    /// Never dropped: only the runtime's clone of it is.
    bomb: ManuallyDrop<Waker>,
    /// Set once the bomb is the task's join waker.
    registered: Arc<AtomicBool>,
}

impl<T> Future for AwaitWithBomb<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if !this.registered.load(Ordering::SeqCst) {
            let mut bomb_cx = Context::from_waker(&this.bomb);
            if let Poll::Ready(output) = Pin::new(&mut this.task).poll(&mut bomb_cx) {
                return Poll::Ready(output);
            }
            this.registered.store(true, Ordering::SeqCst);
        }
        if this.task.is_done() {
            return Pin::new(&mut this.task).poll(cx);
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

rt_test! {
    fn a_panicking_join_waker_does_not_kill_the_runtime(flavor: Flavor) {
        install_logger();
        let name = format!("bomb-joined-{flavor:?}");
        let task_name = name.clone();
        let outcome = on_a_thread("a task awaited with a panicking waker", move || {
            let rt = flavor.runtime();
            rt.block_on(async move {
                let (release, released) = oneshot::channel::<()>();
                let joined = TaskBuilder::new().name(task_name).spawn(async move {
                    released.await.unwrap();
                    7
                });
                let registered = Arc::new(AtomicBool::new(false));
                let awaiting = create_task(AwaitWithBomb {
                    task: joined,
                    bomb: ManuallyDrop::new(bomb_waker()),
                    registered: registered.clone(),
                });
                yield_until("the bomb is the join waker", || registered.load(Ordering::SeqCst)).await;
                release.send(()).unwrap();
                // Completing `joined` wakes the bomb, on the thread that runs it.
                let seven = awaiting.await.unwrap().unwrap();
                // The runtime still runs new tasks.
                let later = create_task(async { 35 }).await.unwrap();
                seven + later
            })
        });
        assert_eq!(outcome, 42);
        // Both panics are reported, naming the task whose completion woke the waker.
        let records = records_with(&name);
        for what in ["bomb waker woken", "bomb waker dropped"] {
            let (level, _) = records
                .iter()
                .find(|(_, text)| text.contains(what))
                .unwrap_or_else(|| panic!("no report of \"{what}\": {records:?}"));
            assert_eq!(*level, Level::Error, "{records:?}");
        }
    }

    fn panic_is_propagated_with_its_message(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let err = create_task(async {
                yield_now().await;
                panic!("boom {}", std::hint::black_box(7))
            })
            .await
            .unwrap_err();
            assert!(err.is_panic());
            assert!(!err.is_cancelled());
            assert_eq!(err.to_string(), "task panicked: boom 7");
            assert_eq!(format!("{err:?}"), r#"Panicked("boom 7")"#);
            let payload = err.try_into_panic().expect("a panic payload");
            assert_eq!(payload.downcast_ref::<String>().map(String::as_str), Some("boom 7"));

            let err = create_local_task(async { panic!("static message") }).await.unwrap_err();
            assert_eq!(err.to_string(), "task panicked: static message");
            // The payload can be re-raised as is.
            let payload = err.try_into_panic().unwrap();
            let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                std::panic::resume_unwind(payload)
            }))
            .unwrap_err();
            assert_eq!(again.downcast_ref::<&str>(), Some(&"static message"));

            let err = create_task(async { std::panic::panic_any(42u8) }).await.unwrap_err();
            assert_eq!(err.to_string(), "task panicked: <non-string panic payload>");
            let cancelled = TaskError::Cancelled.try_into_panic().unwrap_err();
            assert!(cancelled.is_cancelled());
        });
    }

    fn a_panic_does_not_kill_the_worker(flavor: Flavor) {
        let rt = flavor.runtime();
        let thread_of = |panics: bool| {
            rt.block_on(async move {
                create_task(async move {
                    let id: ThreadId = thread::current().id();
                    if panics {
                        panic!("task failure");
                    }
                    id
                })
                .await
            })
        };
        let before = thread_of(false).unwrap();
        for _ in 0..10 {
            assert!(thread_of(true).unwrap_err().is_panic());
        }
        let after = thread_of(false).unwrap();
        if flavor.workers() <= 1 {
            // The one thread that runs tasks survived the panics.
            assert_eq!(before, after);
        }
        // And everything still runs.
        let sum = rt.block_on(async {
            let tasks: Vec<_> = (0..100u32).map(|i| create_task(async move { i })).collect();
            let mut sum = 0;
            for task in tasks {
                sum += task.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, 4950);
    }

    fn a_panic_while_dropping_a_cancelled_future_is_the_outcome(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let (_tx, rx) = oneshot::channel::<()>();
            let task = create_task(async move {
                let _bomb = PanicOnDrop(Some(()));
                rx.await.unwrap();
            });
            yield_until("the task waits", || task.info().state == ringloop::TaskState::Idle).await;
            // The panic stays in the task: cancel() does not unwind into the caller.
            assert!(task.cancel());
            let err = task.await.unwrap_err();
            assert!(err.is_panic(), "{err:?}");
            assert_eq!(err.to_string(), "task panicked: PanicOnDrop dropped");
        });
    }

    fn a_panic_while_dropping_a_finished_future_is_logged(flavor: Flavor) {
        install_logger();
        let rt = flavor.runtime();
        let name = format!("drop-panics-{flavor:?}");
        let value = rt.block_on(async {
            TaskBuilder::new().name(name.clone()).spawn(PanicOnDrop(Some(5))).await
        });
        // The task's value stands; the panic from dropping its future is reported.
        assert_eq!(value.unwrap(), 5);
        let text = expect_one_error(&name);
        assert!(text.contains("PanicOnDrop dropped"), "{text}");
    }

    fn a_lost_panic_is_logged_when_the_handle_was_dropped_first(flavor: Flavor) {
        install_logger();
        let rt = flavor.runtime();
        let name = format!("lost-before-{flavor:?}");
        rt.block_on(async {
            let (tx, rx) = oneshot::channel::<()>();
            let task = TaskBuilder::new().name(name.clone()).spawn(async move {
                rx.await.unwrap();
                panic!("nobody is listening");
            });
            let id = task.id();
            drop(task);
            tx.send(()).unwrap();
            yield_until("the task panicked", || !records_with(&name).is_empty()).await;
            let text = expect_one_error(&name);
            assert!(text.contains("nobody is listening"), "{text}");
            assert!(text.contains("never retrieved"), "{text}");
            assert!(text.contains(&id.to_string()), "{text}");
        });
    }

    fn a_lost_panic_is_logged_when_the_handle_is_dropped_after(flavor: Flavor) {
        install_logger();
        let rt = flavor.runtime();
        let name = format!("lost-after-{flavor:?}");
        rt.block_on(async {
            let task = TaskBuilder::new().name(name.clone()).spawn(async { panic!("unread") });
            yield_until("the task panicked", || task.is_done()).await;
            assert!(records_with(&name).is_empty(), "logged while the handle could still read it");
            drop(task);
        });
        let text = expect_one_error(&name);
        assert!(text.contains("unread") && text.contains("never retrieved"), "{text}");
    }

    fn an_awaited_panic_is_not_logged(flavor: Flavor) {
        install_logger();
        let rt = flavor.runtime();
        let name = format!("awaited-{flavor:?}");
        rt.block_on(async {
            let task = TaskBuilder::new().name(name.clone()).spawn(async { panic!("seen") });
            assert!(task.await.unwrap_err().is_panic());
        });
        drop(rt);
        assert!(records_with(&name).is_empty());
    }

    fn a_panic_while_dropping_an_unread_output_is_logged(flavor: Flavor) {
        install_logger();
        let rt = flavor.runtime();
        let name = format!("bomb-output-{flavor:?}");
        rt.block_on(async {
            let task = TaskBuilder::new().name(name.clone()).spawn(async { BombOutput });
            yield_until("the task is done", || task.is_done()).await;
            drop(task); // drops the output here, which panics: caught and logged
            let detached = TaskBuilder::new().name(format!("{name}-detached")).spawn(async {
                yield_now().await;
                BombOutput
            });
            drop(detached);
            yield_until("the detached task's output was dropped", || {
                !records_with(&format!("{name}-detached")).is_empty()
            })
            .await;
        });
        for needle in [name.clone(), format!("{name}-detached")] {
            let records = records_with(&needle);
            assert!(
                records.iter().any(|(_, text)| text.contains("BombOutput dropped")),
                "{records:?}"
            );
        }
    }
}

/// The environment variable that makes `lost_panic_child_process` run its scenario.
const CHILD: &str = "RINGLOOP_TEST_LOST_PANIC_CHILD";

/// Runs in a child process (see below): lost panics on every flavour, with a silent panic
/// hook, so that anything on stdout or stderr was written by the runtime itself.
#[test]
fn lost_panic_child_process() {
    if std::env::var_os(CHILD).is_none() {
        return;
    }
    // Silence the standard hook for the panics this scenario expects: what is left on stdout
    // and stderr is the runtime's (or a failure of this test).
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = support::panic_message(info.payload());
        if message != "quiet" && message != "PanicOnDrop dropped" {
            default_hook(info);
        }
    }));
    install_logger();
    for (index, flavor) in [
        Flavor::SingleThreaded,
        Flavor::MultiThread { workers: 1 },
        Flavor::MultiThread { workers: 2 },
    ]
    .into_iter()
    .enumerate()
    {
        let rt = flavor.runtime();
        let name = format!("child-{index}");
        rt.block_on(async {
            TaskBuilder::new()
                .name(name.clone())
                .spawn(async { panic!("quiet") })
                .detach();
            let done = TaskBuilder::new()
                .name(format!("{name}-drop"))
                .spawn(PanicOnDrop(Some(1)));
            assert_eq!(done.await.unwrap(), 1);
            yield_until("the lost panic is logged", || {
                records_with(&name).len() == 2
            })
            .await;
        });
    }
}

#[test]
fn lost_panics_are_logged_and_nothing_is_printed() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "lost_panic_child_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("test lost_panic_child_process ... ok"),
        "{stdout}"
    );
    // Everything but the test harness's own lines was printed by the runtime.
    let printed: Vec<&str> = stdout
        .lines()
        .filter(|line| {
            !(line.is_empty() || line.starts_with("running ") || line.starts_with("test "))
        })
        .collect();
    assert!(
        printed.is_empty(),
        "the runtime printed to stdout: {printed:?}"
    );
    assert!(
        stderr.trim().is_empty(),
        "the runtime printed to stderr: {stderr}"
    );
}
