//! Task groups: structured concurrency (asyncio's `TaskGroup`).
//!
//! - `mod.rs`: [`task_group`], [`TaskGroup`] (the handle that creates tasks) and
//!   [`TaskGroupScope`] (the future that runs the body, then waits for the tasks);
//! - `shared.rs`: the group's state and its protocol (read this first);
//! - `child.rs`: the future spawned for each task, and the slot its outcome goes to;
//! - `handle.rs`: [`GroupTask`], the handle of one task;
//! - `error.rs`: [`TaskGroupError`] and [`Failure`].
//!
//! # Semantics (asyncio's)
//! The scope runs its body; tasks created in the group run concurrently. The first failure
//! of a task (a panic, or an `Err` of a task made with
//! [`create_fallible_task`](TaskGroup::create_fallible_task)) cancels every other task of the
//! group *and the body*; later failures are collected too. The scope completes once the body
//! is done and every task has finished — `Ok(body's output)`, or `Err(TaskGroupError)` with
//! every failure. Tasks may be added while the group waits for the others; once it has
//! started cancelling, or has finished, new tasks are cancelled on arrival. Dropping the
//! scope future (its task was cancelled, or a timeout dropped it) cancels every task of the
//! group, so no task outlives its group unnoticed.

mod child;
mod error;
mod handle;
mod shared;

pub use error::{Failure, FailureKind, TaskGroupError};
pub use handle::GroupTask;

use crate::{Handle, TaskBuilder, TaskId};
use child::{Child, Classify, Slot};
use shared::Shared;
use std::fmt::{self, Display};
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// Runs `body` with a new [`TaskGroup`], then waits for every task created in it (asyncio's
/// `async with asyncio.TaskGroup() as group:`).
///
/// Gives `Ok(output of body)` if no task failed, or `Err(TaskGroupError)` with every
/// failure. The first failure cancels the group's other tasks and drops the body. If the
/// body panics, the tasks are cancelled, and the panic resumes once they have finished.
///
/// The scope runs its body; tasks created in the group run concurrently. The first failure
/// of a task (a panic, or an `Err` of a task made with
/// [`create_fallible_task`](TaskGroup::create_fallible_task)) cancels every other task of the
/// group *and the body*; later failures are collected too. Tasks may be added while the
/// group waits for the others; once it has started cancelling, or has finished, new tasks
/// are cancelled on arrival. Dropping the scope future (its task was cancelled, or a timeout
/// dropped it) cancels every task of the group. In short, nothing the group started is
/// still running when the scope completes.
///
/// # Panics
/// When first polled outside a runtime.
///
/// # Examples
/// ```
/// use std::time::Duration;
///
/// ringloop::run(async {
///     let (a, b) = ringloop::task_group(|group| async move {
///         let a = group.create_task(async { 1 });
///         let b = group.create_task(async {
///             ringloop::sleep(Duration::from_millis(5)).await.unwrap();
///             2
///         });
///         (a, b)
///     })
///     .await
///     .unwrap();
///     // Every task has finished when the scope returns.
///     assert!(a.is_done() && b.is_done());
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
///
///     // A failure cancels the rest and is reported.
///     let err = ringloop::task_group(|group| async move {
///         group.create_fallible_task(async { Err::<(), _>("bad input") });
///         group.create_task(std::future::pending::<()>());
///     })
///     .await
///     .unwrap_err();
///     assert_eq!(err.to_string(), format!("a task of the group failed: {}", err.failures()[0]));
///     assert_eq!(err.failures()[0].message(), "bad input");
/// });
/// ```
pub fn task_group<B, Fut>(body: B) -> TaskGroupScope<B, Fut>
where
    B: FnOnce(TaskGroup) -> Fut,
    Fut: Future,
{
    TaskGroupScope {
        stage: Stage::Start(body),
        group: None,
    }
}

/// A handle to a task group, to create tasks in it from anywhere (cheap to clone, `Send +
/// Sync`; give clones to the tasks so that they can add siblings). Made by [`task_group`].
#[derive(Clone)]
pub struct TaskGroup {
    shared: Arc<Shared>,
}

impl TaskGroup {
    /// Creates a task in the group (asyncio's `group.create_task`); a panic of the task fails
    /// the group. The task runs on the group's runtime, from whatever thread this is called.
    ///
    /// If the group no longer takes tasks (it is cancelling after a failure, or it has
    /// finished), `future` is dropped at once and the handle gives `Err(Cancelled)`.
    pub fn create_task<F>(&self, future: F) -> GroupTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn(TaskBuilder::new(), future, |_| None)
    }

    /// Like [`create_task`](Self::create_task), with a name (or other options) from `builder`.
    pub fn create_task_with<F>(&self, builder: TaskBuilder, future: F) -> GroupTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn(builder, future, |_| None)
    }

    /// Creates a task whose `Err` fails the group like a panic: the other tasks are
    /// cancelled, and the error's `Display` is in the [`TaskGroupError`]. The handle still
    /// gives the `Err` value itself.
    pub fn create_fallible_task<F, T, E>(&self, future: F) -> GroupTask<Result<T, E>>
    where
        F: Future<Output = Result<T, E>> + Send + 'static,
        T: Send + 'static,
        E: Display + Send + 'static,
    {
        self.spawn(TaskBuilder::new(), future, |output| {
            output.as_ref().err().map(ToString::to_string)
        })
    }

    /// Creates a `!Send` task in the group, on the current thread (like
    /// [`create_local_task`](crate::create_local_task)).
    ///
    /// # Panics
    /// Outside a runtime.
    pub fn create_local_task<F>(&self, future: F) -> GroupTask<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let Some(id) = self.shared.begin_child() else {
            return closed(future);
        };
        let slot = Arc::new(Slot::new());
        let child = Child::new(future, self.shared.clone(), id, slot.clone(), |_| None);
        let task = TaskBuilder::new().spawn_local(child);
        self.finish_spawn(id, slot, task)
    }

    fn spawn<F>(
        &self,
        builder: TaskBuilder,
        future: F,
        classify: Classify<F::Output>,
    ) -> GroupTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let Some(id) = self.shared.begin_child() else {
            return closed(future);
        };
        let slot = Arc::new(Slot::new());
        let child = Child::new(future, self.shared.clone(), id, slot.clone(), classify);
        let task = builder.spawn_on(child, &self.shared.handle);
        self.finish_spawn(id, slot, task)
    }

    fn finish_spawn<T>(&self, id: u64, slot: Arc<Slot<T>>, task: crate::Task<()>) -> GroupTask<T> {
        let (task_id, name) = (task.id(), task.name().map(Box::from));
        self.shared.attach(id, task);
        GroupTask::new(slot, Some((self.shared.clone(), id)), task_id, name)
    }

    /// Tasks of the group that have not finished.
    pub fn len(&self) -> usize {
        self.shared.len()
    }

    /// True if every task of the group has finished.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True once the group no longer takes tasks: it is cancelling its tasks after a
    /// failure, or it has finished.
    pub fn is_closed(&self) -> bool {
        self.shared.is_closed()
    }
}

/// The handle of a task refused by a closed group: its future is dropped here.
fn closed<F: Future>(future: F) -> GroupTask<F::Output> {
    drop(future);
    GroupTask::new(Arc::new(Slot::cancelled()), None, TaskId::next(), None)
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// The future returned by [`task_group`].
#[must_use = "futures do nothing unless awaited"]
pub struct TaskGroupScope<B, Fut: Future> {
    stage: Stage<B, Fut>,
    group: Option<Arc<Shared>>,
}

enum Stage<B, Fut: Future> {
    /// Not polled yet.
    Start(B),
    /// The body runs (boxed, so that the scope is `Unpin` without unsafe code).
    Body(Pin<Box<Fut>>),
    /// The body is done (`None`: it was cancelled by a failure); waiting for the tasks.
    Joining(Option<Fut::Output>),
    /// The body panicked; waiting for the cancelled tasks before resuming the panic.
    Panicked(Box<dyn std::any::Any + Send>),
    Done,
}

impl<B, Fut: Future> Unpin for TaskGroupScope<B, Fut> {}

impl<B, Fut> Future for TaskGroupScope<B, Fut>
where
    B: FnOnce(TaskGroup) -> Fut,
    Fut: Future,
{
    type Output = Result<Fut::Output, TaskGroupError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if let Stage::Start(_) = this.stage {
            let Stage::Start(body) = std::mem::replace(&mut this.stage, Stage::Done) else {
                unreachable!("matched Start above")
            };
            let shared = Arc::new(Shared::new(Handle::current()));
            this.group = Some(shared.clone());
            this.stage = Stage::Body(Box::pin(body(TaskGroup { shared })));
        }
        let group = this
            .group
            .clone()
            .expect("the group exists after the first poll");
        group.register(cx.waker());
        if let Stage::Body(body) = &mut this.stage {
            if group.is_aborting() {
                // A task failed: cancel the body (asyncio cancels the task running it).
                this.stage = Stage::Joining(None);
            } else {
                match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(output)) => this.stage = Stage::Joining(Some(output)),
                    Err(payload) => {
                        this.stage = Stage::Panicked(payload);
                        group.abort();
                    }
                }
            }
        }
        let Some(failures) = group.close() else {
            return Poll::Pending;
        };
        match std::mem::replace(&mut this.stage, Stage::Done) {
            Stage::Panicked(payload) => resume_unwind(payload),
            Stage::Joining(output) if failures.is_empty() => {
                Poll::Ready(Ok(output.expect("only a failure cancels the body")))
            }
            Stage::Joining(_) => Poll::Ready(Err(TaskGroupError::new(failures))),
            Stage::Start(_) | Stage::Body(_) | Stage::Done => {
                panic!("a task_group scope was polled after it completed")
            }
        }
    }
}

impl<B, Fut: Future> Drop for TaskGroupScope<B, Fut> {
    fn drop(&mut self) {
        if let Some(group) = &self.group {
            // Dropped before the tasks finished: cancel them (a no-op once closed).
            group.abort();
        }
    }
}

impl<B, Fut: Future> fmt::Debug for TaskGroupScope<B, Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stage = match self.stage {
            Stage::Start(_) => "start",
            Stage::Body(_) => "body",
            Stage::Joining(_) | Stage::Panicked(_) => "joining",
            Stage::Done => "done",
        };
        f.debug_struct("TaskGroupScope")
            .field("stage", &stage)
            .field(
                "group",
                &self.group.as_ref().map(|shared| TaskGroup {
                    shared: shared.clone(),
                }),
            )
            .finish()
    }
}
