//! A one-value channel between two tasks.
//!
//! # Protocol
//!
//! One `Arc<Shared>` holds a mutex over `State { value, waker, sender_alive,
//! receiver_alive }`. Every transition happens under the lock:
//!
//! 1. [`Sender::send`] stores the value, clears `sender_alive`, takes the receiver's
//!    waker, unlocks, then wakes. Dropping an unsent [`Sender`] does the same without a
//!    value, so the receiver sees [`RecvError`].
//! 2. Polling the [`Receiver`] takes the value if present, reports [`RecvError`] if the
//!    sender is gone, else stores its waker; all under the lock, so a send either happens
//!    before (and is seen) or after (and finds the waker).
//! 3. Dropping the receiver clears `receiver_alive`; a later send gives the value back.
//!
//! One allocation per channel, like tokio's oneshot.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

struct Shared<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    value: Option<T>,
    waker: Option<Waker>,
    sender_alive: bool,
    receiver_alive: bool,
}

/// Creates a connected sender and receiver.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            value: None,
            waker: None,
            sender_alive: true,
            receiver_alive: true,
        }),
    });
    (
        Sender {
            shared: Some(shared.clone()),
        },
        Receiver { shared },
    )
}

/// The sending half; [`Sender::send`] consumes it.
pub struct Sender<T> {
    /// `None` once the value has been sent.
    shared: Option<Arc<Shared<T>>>,
}

/// The receiving half: a future of the sent value.
#[must_use = "futures do nothing unless polled"]
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// The sender was dropped without sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

impl<T> Sender<T> {
    /// Sends `value`, waking the receiver; gives the value back if the receiver is gone.
    pub fn send(mut self, value: T) -> Result<(), T> {
        let shared = self.shared.take().expect("a sender sends once");
        close(&shared, Some(value))
    }
}

/// Marks the sender gone (with or without a value) and wakes the receiver.
fn close<T>(shared: &Shared<T>, value: Option<T>) -> Result<(), T> {
    let waker = {
        let mut state = shared.state.lock();
        if !state.receiver_alive {
            state.sender_alive = false;
            return value.map_or(Ok(()), Err);
        }
        state.value = value;
        state.sender_alive = false;
        state.waker.take()
    };
    if let Some(waker) = waker {
        waker.wake();
    }
    Ok(())
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.take() {
            let _ = close(&shared, None);
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.shared.state.lock();
        if let Some(value) = state.value.take() {
            return Poll::Ready(Ok(value));
        }
        if !state.sender_alive {
            return Poll::Ready(Err(RecvError));
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        state.receiver_alive = false;
        state.waker = None;
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn value_crosses_threads() {
        for i in 0..500 {
            let (tx, rx) = channel();
            let t = std::thread::spawn(move || tx.send(i).unwrap());
            assert_eq!(block_on(rx), Ok(i));
            t.join().unwrap();
        }
    }

    #[test]
    fn dropped_sender_is_an_error() {
        let (tx, rx) = channel::<u8>();
        drop(tx);
        assert_eq!(block_on(rx), Err(RecvError));
    }

    #[test]
    fn send_to_dropped_receiver_gives_value_back() {
        let (tx, rx) = channel();
        drop(rx);
        assert_eq!(tx.send(7), Err(7));
    }
}
