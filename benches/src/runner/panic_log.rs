//! A panic hook that records every panic, from any thread, for the runner to report.
//!
//! A runtime under test may panic on one of its own worker threads and then hang; the
//! runner polls [`since`] while it waits, so it can give up early and say why, and puts
//! the message (with thread and location) into the report. Panics on the sample threads
//! (named `bench-*`, see `isolate.rs`) stay quiet, since the report lists them and an
//! unfinished runtime would otherwise flood the progress output with one per sample;
//! every other thread (the main thread, a runtime's workers, test threads) also gets the
//! default hook's message.

use std::panic::{self, PanicHookInfo};
use std::sync::Once;
use std::thread;

use parking_lot::Mutex;

/// Sample threads' names start with this.
pub(super) const SAMPLE_THREAD_PREFIX: &str = "bench-";

/// Recorded panic messages, oldest first (only the count and the latest are read).
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Installs the hook once per process.
pub(super) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default_hook = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let on_sample_thread = thread::current()
                .name()
                .is_some_and(|name| name.starts_with(SAMPLE_THREAD_PREFIX));
            if !on_sample_thread {
                default_hook(info);
            }
            LOG.lock().push(describe(info));
        }));
    });
}

/// How many panics have been recorded so far.
pub(super) fn count() -> usize {
    LOG.lock().len()
}

/// The latest panic recorded after the first `seen` ones, if any.
pub(super) fn since(seen: usize) -> Option<String> {
    let log = LOG.lock();
    (log.len() > seen).then(|| log[log.len() - 1].clone())
}

fn describe(info: &PanicHookInfo<'_>) -> String {
    let thread = thread::current();
    let name = thread.name().unwrap_or("<unnamed>");
    let location = info
        .location()
        .map(|l| format!("{}:{}", l.file(), l.line()))
        .unwrap_or_default();
    format!(
        "thread '{name}' panicked at {location}: {}",
        payload_message(info.payload())
    )
}

/// The message of a panic payload (`&str` or `String`), or a placeholder.
pub(crate) fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    }
}
