//! `Runtime::builder()`: settings that cannot work are `InvalidInput` errors naming the
//! setting, never panics; the settings that work show up in the runtime.

use ringloop::{create_task, Runtime};
use std::collections::HashSet;
use std::io;

#[track_caller]
fn invalid_input(result: io::Result<Runtime>) -> String {
    let err = result.expect_err("the builder accepted settings that cannot work");
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
    err.to_string()
}

#[test]
fn zero_worker_threads_is_an_error_naming_the_setting() {
    let message = invalid_input(Runtime::builder().worker_threads(0).build());
    assert!(message.contains("worker_threads"), "{message}");
    assert!(message.contains('0'), "{message}");
}

#[test]
fn worker_threads_on_a_single_threaded_runtime_is_an_error_naming_both() {
    let message = invalid_input(
        Runtime::builder()
            .single_threaded()
            .worker_threads(2)
            .build(),
    );
    assert!(message.contains("worker_threads"), "{message}");
    assert!(
        message.contains("single-threaded") || message.contains("single_threaded"),
        "{message}"
    );
    // In either order.
    let message = invalid_input(
        Runtime::builder()
            .worker_threads(2)
            .single_threaded()
            .build(),
    );
    assert!(message.contains("worker_threads"), "{message}");
}

#[test]
fn absurd_settings_are_errors_not_panics() {
    let message = invalid_input(Runtime::builder().worker_threads(usize::MAX).build());
    assert!(message.contains("worker_threads"), "{message}");
    let message = invalid_input(Runtime::builder().thread_stack_size(0).build());
    assert!(message.contains("thread_stack_size"), "{message}");
}

#[test]
fn a_builder_can_be_reused_after_an_error() {
    let mut builder = Runtime::builder();
    assert!(builder.worker_threads(0).build().is_err());
    let rt = builder.worker_threads(1).build().unwrap();
    assert_eq!(rt.worker_threads(), 1);
    assert_eq!(
        rt.block_on(async { create_task(async { 1 }).await.unwrap() }),
        1
    );
}

#[test]
fn worker_threads_are_named_and_counted() {
    let rt = Runtime::builder()
        .worker_threads(2)
        .thread_name("rt-builder-test")
        .thread_stack_size(256 * 1024)
        .build()
        .unwrap();
    assert_eq!(rt.worker_threads(), 2);
    let names: HashSet<String> = rt.block_on(async {
        let tasks = (0..200).map(|_| {
            create_task(async {
                // Keep each task busy a little so that both workers take some.
                std::thread::sleep(std::time::Duration::from_micros(200));
                std::thread::current().name().unwrap_or("").to_owned()
            })
        });
        ringloop::gather(tasks)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect()
    });
    assert!(
        names
            .iter()
            .all(|n| n == "rt-builder-test-0" || n == "rt-builder-test-1"),
        "{names:?}"
    );
}

#[test]
fn default_runtime_has_one_worker_per_cpu() {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(Runtime::new().unwrap().worker_threads(), cpus);
    assert_eq!(
        Runtime::builder()
            .single_threaded()
            .build()
            .unwrap()
            .worker_threads(),
        0
    );
}
