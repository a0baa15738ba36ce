//! The task API of the running runtime: `create_task`, `create_local_task`, named tasks,
//! `current_task` and `all_tasks`.

use crate::context;
use crate::task::{Task, TaskInfo, TaskState};
use crate::Handle;
use std::future::Future;

pub(crate) const OUTSIDE_RUNTIME: &str =
    "this function must be called from inside a ringloop runtime (from a task, or from the \
     future given to `ringloop::run` / `Runtime::block_on`); outside one, use \
     `Runtime::spawn` or a `Handle`";

/// Spawns `future` as a task on the current runtime and returns its handle
/// (asyncio's `create_task`). The task starts running concurrently; on a multi-threaded
/// runtime it may run, and move, on any worker.
///
/// Dropping the returned [`Task`] detaches the task; awaiting it gives the task's output.
///
/// # Panics
/// Outside a runtime.
///
/// # Examples
/// ```
/// ringloop::run(async {
///     let a = ringloop::create_task(async { "hello" });
///     let b = ringloop::create_task(async { "world" });
///     assert_eq!((a.await.unwrap(), b.await.unwrap()), ("hello", "world"));
/// });
/// ```
pub fn create_task<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    TaskBuilder::new().spawn(future)
}

/// Spawns a `!Send` future as a task that stays on the current thread forever (never
/// stolen), and returns its handle.
///
/// # Panics
/// Outside a runtime.
///
/// # Examples
/// ```
/// use std::rc::Rc;
///
/// ringloop::run(async {
///     let shared = Rc::new(5);
///     let task = ringloop::create_local_task({
///         let shared = shared.clone();
///         async move { *shared * 2 }
///     });
///     assert_eq!(task.await.unwrap(), 10);
/// });
/// ```
pub fn create_local_task<F>(future: F) -> Task<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    TaskBuilder::new().spawn_local(future)
}

/// Creates a task with options (a name, for now).
///
/// # Examples
/// ```
/// ringloop::run(async {
///     let task = ringloop::TaskBuilder::new().name("fetcher").spawn(async {
///         ringloop::current_task().unwrap().name
///     });
///     assert_eq!(task.name(), Some("fetcher"));
///     assert_eq!(task.await.unwrap().as_deref(), Some("fetcher"));
/// });
/// ```
#[derive(Debug, Default)]
#[must_use = "a TaskBuilder does nothing until .spawn() is called"]
pub struct TaskBuilder {
    name: Option<Box<str>>,
}

impl TaskBuilder {
    /// A builder with no options set.
    pub fn new() -> TaskBuilder {
        TaskBuilder::default()
    }

    /// Names the task (shown by [`all_tasks`], [`current_task`], logs and `Task::name`).
    pub fn name(mut self, name: impl Into<String>) -> TaskBuilder {
        self.name = Some(name.into().into_boxed_str());
        self
    }

    /// Spawns on the current runtime, like [`create_task`].
    ///
    /// # Panics
    /// Outside a runtime.
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        context::with_scheduler(|scheduler| match scheduler {
            Some(scheduler) => scheduler.spawn(future, self.name),
            None => panic!("create_task: {OUTSIDE_RUNTIME}"),
        })
    }

    /// Spawns on the given runtime, from any thread.
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.scheduler().spawn(future, self.name)
    }

    /// Spawns a `!Send` task on the current thread, like [`create_local_task`].
    ///
    /// # Panics
    /// Outside a runtime.
    pub fn spawn_local<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match context::current_local() {
            Some(local) => local.spawn(future, self.name),
            None => panic!("create_local_task: {OUTSIDE_RUNTIME}"),
        }
    }
}

/// The task this code is running in (asyncio's `current_task()`), or `None` outside a task
/// (for example in the future given to `block_on`).
pub fn current_task() -> Option<TaskInfo> {
    context::current_task().map(|header| {
        // SAFETY: the task being polled on this thread is alive for the whole poll.
        TaskInfo::of(unsafe { header.as_ref() })
    })
}

/// Every task of the current runtime that has not completed (asyncio's `all_tasks()`);
/// empty outside a runtime.
pub fn all_tasks() -> Vec<TaskInfo> {
    let mut out = Vec::new();
    context::with_scheduler(|scheduler| {
        if let Some(scheduler) = scheduler {
            scheduler.collect_info(&mut out);
        }
    });
    // A task leaves its owner list only after completing and waking its join handle, so the
    // list may still hold a task whose result was already read.
    out.retain(|info| !matches!(info.state, TaskState::Complete | TaskState::Cancelled));
    out
}
