//! A oneshot channel built on std only (`Mutex` + `Waker`): the wakes it issues are plain
//! `Waker::wake` calls from whatever thread sends, as any third-party channel's would be.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// The sender was dropped without sending.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Closed;

struct State<T> {
    value: Option<T>,
    waker: Option<Waker>,
    sender_gone: bool,
    receiver_gone: bool,
}

type Shared<T> = Arc<Mutex<State<T>>>;

pub(crate) struct Sender<T>(Option<Shared<T>>);

pub(crate) struct Receiver<T>(Shared<T>);

pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(State {
        value: None,
        waker: None,
        sender_gone: false,
        receiver_gone: false,
    }));
    (Sender(Some(shared.clone())), Receiver(shared))
}

impl<T> Sender<T> {
    /// Sends `value` and wakes the receiver; gives the value back if the receiver is gone.
    pub(crate) fn send(mut self, value: T) -> Result<(), T> {
        let shared = self.0.take().expect("a sender sends once");
        let waker = {
            let mut state = shared.lock().unwrap();
            if state.receiver_gone {
                return Err(value);
            }
            state.value = Some(value);
            state.sender_gone = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// True if the receiver was dropped.
    pub(crate) fn is_closed(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|s| s.lock().unwrap().receiver_gone)
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(shared) = self.0.take() {
            let waker = {
                let mut state = shared.lock().unwrap();
                state.sender_gone = true;
                state.waker.take()
            };
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

impl<T> Receiver<T> {
    /// The value, if it was sent already.
    pub(crate) fn try_recv(&mut self) -> Option<T> {
        self.0.lock().unwrap().value.take()
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, Closed>> {
        let mut state = self.0.lock().unwrap();
        if let Some(value) = state.value.take() {
            return Poll::Ready(Ok(value));
        }
        if state.sender_gone {
            return Poll::Ready(Err(Closed));
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
        let waker = {
            let mut state = self.0.lock().unwrap();
            state.receiver_gone = true;
            state.waker.take()
        };
        drop(waker);
    }
}
