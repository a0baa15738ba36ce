//! `#[ringloop::main]` and `#[ringloop::test]`: each builds the runtime its options ask for,
//! keeps the function's attributes and return type, and reports a panic as the test's.
//!
//! No public API tells a running task how many workers its runtime has, so the flavour is
//! checked by where tasks run: a single-threaded runtime runs every task on the test's own
//! thread; two tasks that wait for each other while blocking their threads need two workers;
//! workers are named `ringloop-worker-{index}`.
//!
//! Their compile errors are tested in `macros/tests/ui/`.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::error::Error;
use std::num::ParseIntError;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The name of the thread running this code.
fn thread_name() -> String {
    thread::current().name().unwrap_or("<unnamed>").to_owned()
}

/// The threads that `n` tasks created with `create_task` run on, each blocking its thread for
/// a moment so that idle workers pick up the others.
async fn threads_of_tasks(n: usize) -> BTreeSet<String> {
    let tasks = (0..n).map(|_| {
        ringloop::create_task(async {
            thread::sleep(Duration::from_millis(20));
            thread_name()
        })
    });
    ringloop::gather(tasks)
        .await
        .into_iter()
        .map(|name| name.unwrap())
        .collect()
}

/// Two tasks that each block their thread until the other one runs: they finish only if two
/// threads run them at once. Returns the names of those threads.
async fn two_tasks_at_once() -> BTreeSet<String> {
    let (to_a, from_b) = mpsc::channel::<()>();
    let (to_b, from_a) = mpsc::channel::<()>();
    let meet = |send: mpsc::Sender<()>, receive: mpsc::Receiver<()>| {
        ringloop::create_task(async move {
            send.send(()).unwrap();
            let met = receive.recv_timeout(Duration::from_secs(20));
            met.expect("the other task never ran while this one blocked its thread");
            thread_name()
        })
    };
    let (a, b) = (meet(to_b, from_b), meet(to_a, from_a));
    [a.await.unwrap(), b.await.unwrap()].into_iter().collect()
}

#[ringloop::test]
async fn a_test_runs_on_a_single_threaded_runtime_by_default() {
    let here = thread_name();
    // `!Send` state shared with a local task: allowed on one thread.
    let shared = Rc::new(Cell::new(0));
    let local = ringloop::create_local_task({
        let shared = shared.clone();
        async move {
            shared.set(1);
            thread_name()
        }
    });
    assert_eq!(local.await.unwrap(), here);
    assert_eq!(shared.get(), 1);
    // Even a `Send` task runs here: there is no other thread.
    assert_eq!(threads_of_tasks(4).await, BTreeSet::from([here]));
}

#[ringloop::test(flavor = "single")]
async fn flavor_single_runs_every_task_on_the_test_thread() {
    let here = thread_name();
    assert_eq!(threads_of_tasks(4).await, BTreeSet::from([here]));
}

#[ringloop::test(flavor = "multi")]
async fn flavor_multi_runs_tasks_on_worker_threads() {
    let here = thread_name();
    let workers = threads_of_tasks(4).await;
    assert!(
        workers
            .iter()
            .all(|name| name.starts_with("ringloop-worker-")),
        "{workers:?}"
    );
    // The body itself runs on the test's thread, and so may hold `!Send` values.
    let local = Rc::new(5);
    ringloop::yield_now().await;
    assert_eq!((thread_name(), *local), (here, 5));
}

#[ringloop::test(flavor = "multi", worker_threads = 2)]
async fn worker_threads_2_starts_two_workers_and_no_more() {
    let both = BTreeSet::from([
        "ringloop-worker-0".to_owned(),
        "ringloop-worker-1".to_owned(),
    ]);
    assert_eq!(two_tasks_at_once().await, both);
    // A third worker would take some of these, while the first two are blocked.
    let seen = threads_of_tasks(6).await;
    assert!(seen.is_subset(&both), "{seen:?}");
}

#[ringloop::test(flavor = "multi", worker_threads = 1)]
async fn worker_threads_1_starts_one_worker() {
    let seen = threads_of_tasks(4).await;
    assert_eq!(seen, BTreeSet::from(["ringloop-worker-0".to_owned()]));
}

/// A doc comment, kept on the test.
#[ringloop::test]
async fn a_test_may_return_a_result() -> Result<(), Box<dyn Error>> {
    let n: u32 = "42".parse()?;
    ringloop::sleep(Duration::from_millis(1)).await?;
    if n == 42 {
        return Ok(());
    }
    Err("unreachable".into())
}

#[ringloop::test]
async fn the_body_s_inner_attributes_apply_to_the_test() {
    #![allow(unused_variables)]
    let unused = ringloop::create_task(async { 1 }).await;
}

#[ringloop::test]
#[should_panic(expected = "a panic in the body fails the test")]
async fn a_panic_in_the_body_fails_the_test() {
    ringloop::yield_now().await;
    panic!("a panic in the body fails the test");
}

#[ringloop::test(flavor = "multi", worker_threads = 1)]
#[should_panic(expected = "a panic in a task, unwrapped")]
async fn a_panic_reaches_the_test_on_the_multi_threaded_flavor_too() {
    // The task's panic is caught on its worker; unwrapping its `TaskError` panics here.
    let task = ringloop::create_task(async { panic!("a panic in a task, unwrapped") });
    task.await.unwrap();
}

#[ringloop::test]
#[ignore = "shows that #[ignore] is kept: the summary counts it as ignored"]
async fn an_ignored_test_is_not_run() {}

#[ringloop::test(crate = "ringloop")]
async fn the_crate_option_takes_the_crate_name() {
    ringloop::yield_now().await;
}

/// A re-export of the facade, as a library that wraps ringloop would have.
mod wrapper {
    pub(crate) use ::ringloop as rt;
}

#[ringloop::test(crate = "crate::wrapper::rt", flavor = "multi", worker_threads = 1)]
async fn the_crate_option_takes_a_path_to_a_re_export() {
    let seen = threads_of_tasks(2).await;
    assert_eq!(seen, BTreeSet::from(["ringloop-worker-0".to_owned()]));
}

/// `#[ringloop::main]` on a function that is not `main`: a blocking function that returns
/// the body's output.
#[ringloop::main(flavor = "single")]
async fn parse_a_number() -> Result<u32, ParseIntError> {
    ringloop::yield_now().await;
    let n: u32 = "21".parse()?;
    Ok(n * 2)
}

/// The same on the multi-threaded flavour, with an error that `?` returns.
#[ringloop::main(flavor = "multi", worker_threads = 2)]
async fn parse_garbage() -> Result<u32, ParseIntError> {
    let text = ringloop::create_task(async { "x" }).await.unwrap();
    let n: u32 = text.parse()?;
    Ok(n)
}

#[test]
fn main_returns_the_body_s_output() {
    assert_eq!(parse_a_number(), Ok(42));
    assert!(parse_garbage().is_err());
}
