//! asyncio's `loop.add_signal_handler` and `loop.remove_signal_handler`, as methods of
//! [`Handle`].
//!
//! # Design
//!
//! Each runtime owns a [`SignalHandlers`] (a field of `Runtime`, found from a `Handle` through
//! [`crate::lookup`], as the blocking pool is): per signal, the callback, in a slot of its
//! own, and the *listener*, a task of the runtime that owns a
//! [`ringloop_io::signal::Signal`] and, at each arrival, spawns a detached task that calls
//! the callback in the slot at that moment.
//!
//! * Adding for a signal that has a handler swaps the callback in the slot: the listener and
//!   its `Signal` stay, so no arrival meanwhile finds the signal's old disposition back.
//! * Removing takes the entry out and cancels the listener; its `Signal` is dropped with the
//!   task's future, soon after, and with the last listener of the signal in the process the
//!   old disposition comes back (`ringloop_io::signal` module docs).
//! * A callback that panics is the panic of a detached task, named after the signal
//!   (`"SIGUSR1 handler"`): reported as such (`crate::report`), and nothing else happens;
//!   the listener goes on.
//! * `Runtime`'s drop first drops every task (the listeners with them), then
//!   [`SignalHandlers::shutdown`] unlists the table and drops the callbacks.
//!
//! # Locking
//!
//! `entries` is held only to find, insert or take out an entry, and a slot's lock only to
//! clone or swap the `Arc` in it; neither is held while user code runs (a callback, or its
//! `Drop` when it is replaced or removed), nor while a task is spawned or cancelled, which
//! may drop a future at once.

use crate::lookup::{Key, Table};
use crate::loom::Mutex;
use crate::scheduler::Scheduler;
use crate::{Handle, Task, TaskBuilder};
use ringloop_io::signal::{Signal, SignalKind};
use std::fmt;
use std::io;
use std::sync::Arc;

/// A handler, shared by the slot and the tasks that call it.
type Callback = Arc<dyn Fn() + Send + Sync>;

/// The signal handlers of the live runtimes.
static HANDLERS: Table<Handlers> = Table::new();

/// A runtime's signal handlers, owned by the `Runtime`: listed (so that its handles find
/// them) from [`new`](Self::new) until [`shutdown`](Self::shutdown).
pub(crate) struct SignalHandlers {
    handlers: Arc<Handlers>,
    key: Key,
}

struct Handlers {
    entries: Mutex<Vec<Entry>>,
}

/// The slot of one signal's callback: `None` once the handler is removed.
type Slot = Arc<Mutex<Option<Callback>>>;

/// One signal's handler.
struct Entry {
    kind: SignalKind,
    callback: Slot,
    /// The task that awaits the signal and spawns the callback's tasks.
    listener: Task<()>,
}

impl SignalHandlers {
    /// The (empty) handlers of the runtime whose scheduler is `scheduler`; call once per
    /// runtime, before any of its tasks exists.
    pub(crate) fn new(scheduler: &Scheduler) -> SignalHandlers {
        let handlers = Arc::new(Handlers {
            entries: Mutex::new(Vec::new()),
        });
        let key = Key::of(scheduler);
        HANDLERS.list(key, &handlers);
        SignalHandlers { handlers, key }
    }

    /// Unlists the handlers and drops them. For `Runtime`'s drop, after the scheduler has
    /// stopped (so the listeners are gone already).
    pub(crate) fn shutdown(&self) {
        HANDLERS.unlist(self.key);
        let entries = std::mem::take(&mut *self.handlers.entries.lock());
        entries.into_iter().for_each(retire);
    }
}

impl fmt::Debug for SignalHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signals: Vec<SignalKind> = self
            .handlers
            .entries
            .lock()
            .iter()
            .map(|e| e.kind)
            .collect();
        f.debug_struct("SignalHandlers")
            .field("signals", &signals)
            .finish()
    }
}

/// The listener task: one callback task per arrival, until the handler is removed or the
/// runtime cannot wait any more.
async fn listen(mut signal: Signal, slot: Slot) {
    let name = format!("{} handler", signal.kind());
    while signal.recv().await.is_some() {
        // Spawned under the slot's lock, so that none is spawned once `remove_signal_handler`
        // has emptied the slot. No user code runs under it: if the runtime is shutting down,
        // the spawn drops the future at once, but the slot keeps the callback alive.
        let guard = slot.lock();
        let Some(callback) = guard.as_ref().map(Arc::clone) else {
            return;
        };
        TaskBuilder::new()
            .name(name.as_str())
            .spawn(async move { callback() })
            .detach();
        drop(guard);
    }
}

impl Handle {
    /// Calls `callback` each time `signal` arrives, in a new task of this runtime (asyncio's
    /// `loop.add_signal_handler(sig, callback)`); replaces the signal's handler if it has one.
    ///
    /// Listening starts before this returns: the signal no longer has its previous effect
    /// (ending the process, for most), and each arrival from now on runs the callback once,
    /// or once for several arrivals close together (the kernel merges a signal that is
    /// already pending). On a single-threaded runtime the callbacks run inside
    /// [`block_on`](crate::Runtime::block_on). A callback that panics is reported as the
    /// panic of a detached task named after the signal (`"SIGUSR1 handler"`); the handler
    /// stays and runs again at the next arrival.
    ///
    /// The handler lasts until [`remove_signal_handler`](Self::remove_signal_handler) or
    /// until the runtime is dropped; then, if nothing else in the process listens to the
    /// signal, its previous disposition comes back. Signals are process-wide: two runtimes
    /// with a handler for the same signal both run theirs. The `ringloop::signal` module
    /// docs say how signals reach the ring.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput), naming the signal, for one that
    /// cannot be listened to (`SIGKILL`, `SIGSTOP`, a fault signal, a number that names no
    /// signal, ...; see `ringloop::signal::signal`); an error if the runtime was dropped.
    ///
    /// # Examples
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// use ringloop::signal::SignalKind;
    /// use ringloop::Handle;
    ///
    /// ringloop::run(async {
    ///     let reloads = Arc::new(AtomicUsize::new(0));
    ///     let counter = reloads.clone();
    ///     Handle::current().add_signal_handler(SignalKind::hangup(), move || {
    ///         counter.fetch_add(1, Ordering::SeqCst);
    ///     })?;
    ///     // SAFETY: kill(2) takes no pointers.
    ///     unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
    ///     while reloads.load(Ordering::SeqCst) == 0 {
    ///         ringloop::sleep(std::time::Duration::from_millis(1)).await?;
    ///     }
    ///     assert!(Handle::current().remove_signal_handler(SignalKind::hangup()));
    ///     assert!(!Handle::current().remove_signal_handler(SignalKind::hangup()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn add_signal_handler<F>(&self, signal: SignalKind, callback: F) -> io::Result<()>
    where
        F: Fn() + Send + Sync + 'static,
    {
        let handlers = HANDLERS.find(self.scheduler()).ok_or_else(|| {
            io::Error::other(format!(
                "add_signal_handler({signal}): the runtime of this handle was dropped"
            ))
        })?;
        let callback: Callback = Arc::new(callback);
        let entries = handlers.entries.lock();
        if let Some(entry) = entries
            .iter()
            .find(|e| e.kind == signal && !e.listener.is_done())
        {
            let old = entry.callback.lock().replace(callback);
            drop(entries);
            drop(old);
            return Ok(());
        }
        drop(entries);
        // A new listener, started with no lock held: spawning on a runtime that is shutting
        // down drops the future at once.
        let listening = ringloop_io::signal::signal(signal)?;
        let slot = Arc::new(Mutex::new(Some(callback)));
        let listener = self.scheduler().spawn(
            listen(listening, Arc::clone(&slot)),
            Some(format!("{signal} listener").into_boxed_str()),
        );
        let entry = Entry {
            kind: signal,
            callback: slot,
            listener,
        };
        // A concurrent add for the same signal may have listed an entry meanwhile (or the
        // one found finished): the last one listed wins, as the later of two calls would.
        let replaced = {
            let mut entries = handlers.entries.lock();
            match entries.iter().position(|e| e.kind == signal) {
                Some(at) => Some(std::mem::replace(&mut entries[at], entry)),
                None => {
                    entries.push(entry);
                    None
                }
            }
        };
        if let Some(replaced) = replaced {
            retire(replaced);
        }
        Ok(())
    }

    /// Removes the handler of `signal` (asyncio's `loop.remove_signal_handler(sig)`): true
    /// if there was one, false if not.
    ///
    /// No callback task starts after this returns (one started before may still be running).
    /// Once the handler's listener task has been dropped (at its next scheduling point), the
    /// signal gets its previous disposition back, unless something else in the process
    /// listens to it: a signal raised after that has its old effect (for most, ending the
    /// process), as after asyncio's `remove_signal_handler`.
    pub fn remove_signal_handler(&self, signal: SignalKind) -> bool {
        let Some(handlers) = HANDLERS.find(self.scheduler()) else {
            return false;
        };
        let removed = {
            let mut entries = handlers.entries.lock();
            let at = entries.iter().position(|e| e.kind == signal);
            at.map(|at| entries.swap_remove(at))
        };
        match removed {
            Some(entry) => {
                retire(entry);
                true
            }
            None => false,
        }
    }
}

/// Stops a handler taken out of the table: empties its slot (no callback task starts after
/// this), then cancels its listener. Called with no lock held: the callback's `Drop` runs
/// here if no callback task holds it.
fn retire(entry: Entry) {
    let callback = entry.callback.lock().take();
    drop(callback);
    entry.listener.cancel();
}
