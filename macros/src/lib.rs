//! The `#[ringloop::main]` and `#[ringloop::test]` attributes, which run an `async fn` on a
//! new ringloop runtime.
//!
//! Use them through the `ringloop` crate, which re-exports them: the code they write names
//! the runtime as `::ringloop::Runtime`, so the crate that uses them needs `ringloop` as a
//! dependency under that name (or the `crate = "path"` option, for a renamed one).
//!
//! # Where things are
//! - `options.rs`: the options (`flavor`, `worker_threads`, `crate`), parsed and checked.
//! - `entry.rs`: the function: parsing it, checking its shape, writing its replacement.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod entry;
mod options;

use options::Entry;
use proc_macro::TokenStream;

/// Runs `async fn main` on a new ringloop runtime, like Python's `asyncio.run(main())`.
///
/// The function becomes a plain `fn` that builds a runtime, runs the body on it to
/// completion (`Runtime::block_on`) and drops the runtime: every task still alive is then
/// cancelled and the worker threads are joined, as with `ringloop::run`.
///
/// ```
/// use std::time::Duration;
///
/// #[ringloop::main]
/// async fn main() {
///     let answer = ringloop::create_task(async { 6 * 7 });
///     ringloop::sleep(Duration::from_millis(1)).await.unwrap();
///     assert_eq!(answer.await.unwrap(), 42);
/// }
/// ```
///
/// The function above becomes, give or take hygiene:
///
/// ```
/// # use std::future::Future;
/// # use std::pin::{pin, Pin};
/// fn main() {
///     let future: Pin<&mut dyn Future<Output = ()>> = pin!(async {
///         let output: () = {
///             // the body, unchanged
///         };
///         output
///     });
///     ringloop::Runtime::builder()
///         .build()
///         .unwrap_or_else(|err| panic!("#[ringloop::main] could not start a runtime: {}", err))
///         .block_on(future)
/// }
/// ```
///
/// # Options
///
/// - `flavor = "multi"` (the default): a multi-threaded, work-stealing runtime with one
///   worker thread per CPU, the runtime of `ringloop::run`. The body itself runs on the
///   calling thread, and so need not be `Send`; the tasks it creates with `create_task` run
///   on the workers.
/// - `flavor = "single"`: a single-threaded runtime, the one of `ringloop::run_local`, which
///   is asyncio's own model: every task runs on the calling thread, and tasks need not be
///   `Send` (`create_local_task`).
/// - `worker_threads = N`: the number of worker threads (at least 1) of the `"multi"`
///   flavour; an error with `flavor = "single"`.
/// - `crate = "path"`: where the `ringloop` crate is, if it is not a dependency named
///   `ringloop` (for instance `crate = "my_rt"` after `my_rt = { package = "ringloop" }` in
///   `Cargo.toml`, or a re-export such as `crate = "my_lib::ringloop"`).
///
/// ```
/// use std::rc::Rc;
///
/// #[ringloop::main(flavor = "single")]
/// async fn main() -> std::io::Result<()> {
///     let shared = Rc::new(21); // not Send: fine on one thread
///     let task = ringloop::create_local_task({
///         let shared = shared.clone();
///         async move { *shared * 2 }
///     });
///     assert_eq!(task.await.unwrap(), 42);
///     ringloop::sleep(std::time::Duration::from_millis(1)).await?;
///     Ok(())
/// }
/// ```
///
/// The function may have any name and visibility (`#[ringloop::main] pub async fn serve()`
/// makes a blocking `serve()`), must take no arguments and may return any type, a `Result`
/// included: `?` and `return` in the body work as in the `async fn`.
///
/// # Panics
///
/// If the runtime cannot start, with the builder's error, which names the cause and its fix
/// (io_uring disabled by `kernel.io_uring_disabled` or a seccomp filter, a kernel too old,
/// the locked-memory limit). A `main` that returns a `Result` panics too, whatever its error
/// type: the attribute does not convert the builder's `io::Error` into it. To handle that
/// error, build the runtime by hand with `Runtime::builder`, or call `ringloop::try_run`.
///
/// Like `ringloop::run`, the function panics when called from inside a runtime (a task, or
/// the body of another such function): call it from a thread that runs none.
///
/// # Errors at compile time
///
/// Each mistake is reported at its culprit: a function without `async`; one with
/// arguments, generic parameters, a `where` clause, or `const`, `unsafe` or `extern`; an
/// item that is not a function; an unknown or repeated option (the message lists the valid
/// ones); a flavour other than `"multi"` and `"single"`; `worker_threads = 0`, or
/// `worker_threads` with `flavor = "single"`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Entry::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a new ringloop runtime: `#[test]` for async code, one runtime
/// per test, dropped (its tasks cancelled) when the test ends.
///
/// ```
/// use std::time::Duration;
///
/// #[ringloop::test]
/// async fn sleeps_then_answers() {
///     ringloop::sleep(Duration::from_millis(1)).await.unwrap();
///     assert_eq!(ringloop::create_task(async { 42 }).await.unwrap(), 42);
/// }
///
/// #[ringloop::test(flavor = "multi", worker_threads = 2)]
/// async fn on_two_workers() -> std::io::Result<()> {
///     ringloop::sleep(Duration::from_millis(1)).await?;
///     Ok(())
/// }
///
/// #[ringloop::test]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     ringloop::create_task(async { panic!("boom") }).await.unwrap();
/// }
/// # fn main() {} // a doc example runs no tests: these only show the syntax
/// ```
///
/// The test runs on a **single-threaded** runtime unless it asks for `flavor = "multi"`:
/// like a test of asyncio code, which runs on one event loop, it is deterministic, it may
/// create `!Send` tasks, and it starts no threads of its own, which matters when the test
/// harness runs many tests at once. A test of what only a multi-threaded runtime does
/// (work stealing, tasks running in parallel) says so with `flavor = "multi"`.
///
/// The options are `#[ringloop::main]`'s: `flavor`, `worker_threads` (which needs
/// `flavor = "multi"`) and `crate`. The test's other attributes (`#[should_panic]`,
/// `#[ignore]`, `#[cfg(..)]`, lint levels), its doc comments and its return type
/// (`-> Result<(), E>`, which fails the test when it returns `Err`) are kept. The attribute
/// adds `#[test]` itself: a second `#[test]` is an error. If the runtime cannot start, the
/// test panics with the builder's error.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(Entry::Test, args.into(), item.into()).into()
}
