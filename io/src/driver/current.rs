//! The thread's current driver: the one ops and timers submit to when first polled.
//!
//! `Driver::enter` installs its core here and the returned guard restores the previous one.
//! Ops reach the core through [`with_core`], which never panics: no driver, a driver already
//! held by this thread (re-entrant use), or a thread being torn down all become an
//! `io::Error`.

use std::cell::RefCell;
use std::io;
use std::sync::Arc;

use crate::driver::cell::CoreCell;
use crate::driver::core::Core;

thread_local! {
    static CURRENT: RefCell<Option<Arc<CoreCell>>> = const { RefCell::new(None) };
}

/// Makes `core` the thread's current driver; returns the one it replaces.
pub(crate) fn set(core: Option<Arc<CoreCell>>) -> Option<Arc<CoreCell>> {
    CURRENT
        .try_with(|current| current.replace(core))
        .ok()
        .flatten()
}

fn get() -> Option<Arc<CoreCell>> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// The error of an op or timer polled on a thread without a driver.
pub(crate) fn no_driver() -> io::Error {
    io::Error::other(
        "ringloop: no io driver on this thread: ops and timers must be polled by a ringloop \
         runtime worker (or inside `Driver::enter`)",
    )
}

/// Checks that the thread has a current driver that is not shut down; sockets call it when
/// they are created, so that a socket made outside a runtime fails at once, with a message
/// that says why, instead of at its first op.
pub(crate) fn require() -> io::Result<()> {
    let cell = get().ok_or_else(|| {
        io::Error::other(
            "ringloop: no io driver on this thread: sockets must be created by a task of a \
             ringloop runtime (or inside `Driver::enter`)",
        )
    })?;
    // A driver busy on this thread (a socket created from a waker it runs) is still there.
    let shut_down = matches!(cell.lock(), Ok(core) if core.is_shut_down());
    if shut_down {
        return Err(crate::driver::core::shut_down_error());
    }
    Ok(())
}

/// Runs `f` with the current driver's core, locked.
pub(crate) fn with_core<R>(f: impl FnOnce(&mut Core) -> R) -> io::Result<R> {
    let cell = get().ok_or_else(no_driver)?;
    let mut core = cell.lock()?;
    Ok(f(&mut core))
}
