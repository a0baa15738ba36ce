//! Introspection: task names (`TaskBuilder`), `current_task()`, `all_tasks()` and task ids.

#[macro_use]
mod support;

use ringloop::{
    all_tasks, create_local_task, create_task, current_task, gather, yield_now, TaskBuilder,
    TaskId, TaskInfo, TaskState,
};
use std::collections::{BTreeMap, HashSet};
use std::thread;
use support::{oneshot, yield_until};

/// `all_tasks()` as a map from id to (name, state).
fn snapshot() -> BTreeMap<TaskId, (Option<String>, TaskState)> {
    all_tasks()
        .into_iter()
        .map(|info| (info.id, (info.name, info.state)))
        .collect()
}

rt_test! {
    fn names_come_from_the_task_builder(flavor: Flavor) {
        let rt = flavor.runtime();
        let handle = rt.handle().clone();
        let remote = thread::spawn(move || {
            TaskBuilder::new().name("from-another-thread").spawn_on(async { 1 }, &handle)
        })
        .join()
        .unwrap();
        assert_eq!(remote.name(), Some("from-another-thread"));
        rt.block_on(async {
            let task = TaskBuilder::new().name("fetcher").spawn(async {
                current_task().expect("inside a task").name
            });
            assert_eq!(task.name(), Some("fetcher"));
            assert_eq!(task.info().name.as_deref(), Some("fetcher"));
            assert!(format!("{task:?}").contains("fetcher"), "{task:?}");
            assert_eq!(task.await.unwrap().as_deref(), Some("fetcher"));

            let local = TaskBuilder::new().name(String::from("local one")).spawn_local(async {
                current_task().unwrap().name
            });
            assert_eq!(local.name(), Some("local one"));
            assert_eq!(local.await.unwrap().as_deref(), Some("local one"));

            let unnamed = create_task(async { current_task().unwrap().name });
            assert_eq!(unnamed.name(), None);
            assert_eq!(unnamed.await.unwrap(), None);
            assert_eq!(remote.await.unwrap(), 1);
        });
    }

    fn current_task_is_the_task_being_polled(flavor: Flavor) {
        let rt = flavor.runtime();
        assert_eq!(current_task(), None);
        rt.block_on(async {
            // The block_on future is not a task.
            assert_eq!(current_task(), None);
            let task = create_task(async {
                let first = current_task().unwrap();
                yield_now().await;
                let inner = create_task(async { current_task().unwrap().id }).await.unwrap();
                // Gathered futures run inside the task that awaits the gather.
                let in_gather = gather((0..3).map(|_| async { current_task().unwrap().id })).await;
                let last = current_task().unwrap();
                (first, last, inner, in_gather)
            });
            let id = task.id();
            let (first, last, inner, in_gather) = task.await.unwrap();
            assert_eq!(first.id, id);
            assert_eq!(first.state, TaskState::Running);
            assert_eq!(last.id, id);
            assert_ne!(inner, id);
            assert_eq!(in_gather, [id, id, id]);

            let local = create_local_task(async { current_task().unwrap().id });
            let local_id = local.id();
            assert_eq!(local.await.unwrap(), local_id);
            assert_eq!(current_task(), None);
        });
    }

    fn all_tasks_lists_live_tasks_with_names_and_states(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            assert!(all_tasks().is_empty(), "a fresh runtime has no tasks: {:?}", all_tasks());
            let mut senders = Vec::new();
            let mut tasks = Vec::new();
            for name in ["alpha", "beta", "gamma"] {
                let (tx, rx) = oneshot::channel::<()>();
                senders.push(tx);
                tasks.push(TaskBuilder::new().name(name).spawn(async move { rx.await.is_ok() }));
            }
            let (local_tx, local_rx) = oneshot::channel::<()>();
            let local = TaskBuilder::new().name("delta").spawn_local(async move {
                local_rx.await.unwrap()
            });
            let unnamed = create_task(std::future::pending::<()>());
            yield_until("every task waits", || {
                tasks.iter().all(|t| t.info().state == TaskState::Idle)
                    && local.info().state == TaskState::Idle
                    && unnamed.info().state == TaskState::Idle
            })
            .await;

            let expected: BTreeMap<_, _> = tasks
                .iter()
                .map(|t| (t.id(), (t.name().map(str::to_owned), TaskState::Idle)))
                .chain([
                    (local.id(), (Some("delta".to_owned()), TaskState::Idle)),
                    (unnamed.id(), (None, TaskState::Idle)),
                ])
                .collect();
            assert_eq!(snapshot(), expected);

            // Seen from inside a task, that task is running.
            let (me, seen) = create_task(async { (current_task().unwrap().id, snapshot()) })
                .await
                .unwrap();
            assert_eq!(seen[&me].1, TaskState::Running);

            // Finished tasks are gone from the list: awaited, done but not awaited, cancelled.
            let mut senders = senders.into_iter();
            let mut tasks = tasks.into_iter();
            senders.next().unwrap().send(()).unwrap();
            let alpha = tasks.next().unwrap();
            let alpha_id = alpha.id();
            assert!(alpha.await.unwrap());
            senders.next().unwrap().send(()).unwrap();
            let beta = tasks.next().unwrap();
            yield_until("beta finished", || beta.is_done()).await;
            assert_eq!(beta.info().state, TaskState::Complete);
            assert!(unnamed.cancel());
            assert_eq!(unnamed.info().state, TaskState::Cancelled);
            local_tx.send(()).unwrap();
            local.await.unwrap();

            let now = snapshot();
            let gamma = tasks.next().unwrap();
            assert_eq!(now.keys().copied().collect::<Vec<_>>(), [gamma.id()], "{now:?}");
            assert!(!now.contains_key(&alpha_id));
            drop((beta, unnamed, senders));
            assert!(!gamma.await.unwrap(), "its sender is gone");
            assert!(all_tasks().is_empty(), "an awaited task is still listed: {:?}", all_tasks());
        });
        assert!(all_tasks().is_empty(), "outside a runtime");
    }

    fn all_tasks_is_the_same_from_every_thread_of_the_runtime(flavor: Flavor) {
        let rt = flavor.runtime();
        rt.block_on(async {
            let send = TaskBuilder::new().name("send").spawn(std::future::pending::<()>());
            let local = TaskBuilder::new().name("local").spawn_local(std::future::pending::<()>());
            yield_until("both wait", || {
                send.info().state == TaskState::Idle && local.info().state == TaskState::Idle
            })
            .await;
            let from_block_on: HashSet<TaskId> = all_tasks().iter().map(|t| t.id).collect();
            assert_eq!(from_block_on, HashSet::from([send.id(), local.id()]));
            // From a task (on a worker of a multi-threaded runtime): the same tasks, plus itself.
            let (me, from_task) = create_task(async {
                let ids: HashSet<TaskId> = all_tasks().iter().map(|t| t.id).collect();
                (current_task().unwrap().id, ids)
            })
            .await
            .unwrap();
            let expected: HashSet<TaskId> = from_block_on.iter().copied().chain([me]).collect();
            assert_eq!(from_task, expected, "all_tasks() from a task misses tasks of its runtime");
            assert!(send.cancel() && local.cancel());
        });
    }

    fn task_ids_are_unique_and_shown_like_asyncio(flavor: Flavor) {
        let rt = flavor.runtime();
        let ids = rt.block_on(async {
            let tasks: Vec<_> = (0..1000).map(|_| create_task(async { current_task().unwrap().id })).collect();
            let mut ids = Vec::new();
            for task in tasks {
                let id = task.id();
                assert_eq!(task.await.unwrap(), id);
                ids.push(id);
            }
            ids
        });
        let unique: HashSet<TaskId> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len());
        let id = ids[0];
        assert_eq!(id.to_string(), format!("Task-{}", id.as_u64()));
        assert_eq!(format!("{id:?}"), id.to_string());
        let info = TaskInfo { id, name: None, state: TaskState::Complete };
        assert_eq!(info.clone(), info);
    }
}
