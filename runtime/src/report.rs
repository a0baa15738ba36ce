//! Reports meant for the user's eyes: a slow poll or a stuck worker in debug mode, a panic
//! nobody retrieved, a done callback that panicked.
//!
//! They go through the `log` facade when the application has installed a logger, and to
//! standard error when it has not (`log::max_level()` is still `Off`). Python's `logging`
//! does the same for warnings when left unconfigured, which is how asyncio's debug mode and
//! "Task exception was never retrieved" reach a user who set nothing up. Without the
//! fallback, a program with no logger would lose those reports silently.

/// Emits one report at `level` (see the module docs).
pub(crate) fn emit(level: log::Level, args: std::fmt::Arguments<'_>) {
    if log::max_level() == log::LevelFilter::Off {
        // Not `eprintln!`, which panics if stderr is closed: a report is never worth a panic.
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "ringloop {level}: {args}");
    } else {
        log::log!(level, "{args}");
    }
}

/// `report!(Warn, "...", args)`: [`emit`] with `format_args!`.
macro_rules! report {
    ($level:ident, $($arg:tt)+) => {
        $crate::report::emit(log::Level::$level, format_args!($($arg)+))
    };
}
pub(crate) use report;
