//! [`Leftovers`]: what reads and accepts dropped in flight left behind on a descriptor, kept
//! for the next read or accept on it.
//!
//! # The problem
//!
//! A read's future can be dropped after the kernel took bytes off the socket for it: its
//! completion had arrived and not been polled, or the cancel sent on the drop lost the race.
//! Dropping those bytes would corrupt the stream: the next read would return the message
//! after. `timeout(d, stream.read(buf))` and every select would be unusable on a protocol
//! stream. The same goes for an accept whose connection nobody takes, and for a datagram.
//! A readiness runtime (tokio) never has this problem, because its reads copy only once
//! they are polled; a completion runtime has to keep what arrived.
//!
//! # The design
//!
//! Each descriptor has one `Leftovers`. An op that can leave something behind (a stream or
//! datagram receive, a read at the file position, an accept) does three things:
//!
//! 1. When its future is dropped in flight, it calls [`Leftovers::orphan_started`] *before*
//!    handing its data to the driver: the descriptor now has a dropped op in flight.
//! 2. When that op's completion arrives (on the owner ring's thread, or in the drop itself if
//!    it had already arrived), it calls [`Leftovers::orphan_finished`] with what it produced:
//!    the buffer and the count of the bytes received (the buffer is kept, not copied), the
//!    error it failed with, or the accepted connection. A cancelled op produced nothing.
//! 3. Before a new op of that kind is submitted, it looks here first: while a dropped op is
//!    still in flight it waits (so that bytes arriving for the dropped op cannot be
//!    overtaken by bytes arriving for the new one); then it takes the oldest leftovers, if
//!    any, without a syscall; only if there are none does it go to the kernel.
//!
//! So the bytes of a stream are returned in the order the kernel received them, each once.
//! A stream read takes as many leftover bytes as fit its buffer; a datagram receive takes one
//! whole datagram (truncated to its buffer, as `recv(2)` truncates); an accept takes one
//! connection.
//!
//! # Cost
//!
//! One atomic flag, read before every submission of such an op; it is set only while
//! something is here. The state behind the lock is allocated at the first dropped op.
//!
//! # No user code under the lock
//!
//! A kept buffer's address and length are read (user code: the `IoBuf` methods) before it is
//! stored, and copying from it is a `memcpy` from that address. The caller clones its waker
//! before registering it. A buffer emptied by a read is handed back to the caller to drop
//! outside the lock (it is dropped with [`isolate`](crate::isolate::isolate): it belongs to a
//! future that is gone).

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::task::{Context, Poll, Waker};

use socket2::SockAddr;

use crate::buf::{IoBuf, IoBufMut};
use crate::driver::lifecycle::Completion;
use crate::isolate::isolate;
use crate::loom::{lock, AtomicBool, AtomicPtr, Mutex, Ordering};

/// What dropped ops left on one descriptor; see the module docs.
///
/// One pointer per descriptor (so a connection costs 8 bytes more, not the size of the lock
/// and the flag): null until the descriptor first needs the state (an op dropped in flight,
/// its first accept), then a [`Block`] allocated once and freed with the descriptor.
pub(crate) struct Leftovers {
    block: AtomicPtr<Block>,
}

/// The allocated part of [`Leftovers`].
struct Block {
    /// Set while `state` holds anything: a dropped op in flight, something it left, an
    /// accept in the kernel.
    active: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Dropped ops whose completion has not been handled yet.
    in_flight: usize,
    /// An accept of this listener is in the kernel (see [`Leftovers::accept`]).
    accepting: bool,
    /// New ops waiting for `in_flight` to reach zero (and accepts for `accepting` to clear).
    waiters: Vec<Waker>,
    /// What the dropped ops left, oldest first.
    items: VecDeque<Item>,
}

/// One thing a dropped op left behind.
pub(crate) enum Item {
    /// Bytes (or a datagram) received for it.
    Received(Received),
    /// The error it failed with (not its cancellation): the next read reports it.
    Failed(io::Error),
    /// A connection it accepted.
    Accepted(OwnedFd, SockAddr),
}

/// Bytes a dropped read received, in the buffer it received them into.
pub(crate) struct Received {
    /// The buffer's memory, read when it was stored: `end` bytes from here are the data.
    ptr: *const u8,
    /// How many bytes have been taken by reads since.
    pos: usize,
    end: usize,
    /// The sender of a datagram received with its address.
    from: Option<SockAddr>,
    /// Owns the memory at `ptr`.
    owner: Box<dyn IoBuf>,
}

// SAFETY: `ptr` points into the memory `owner` owns (an `IoBuf`'s memory does not move with
// it and lives until it is dropped), and is only read while `owner` is alive; `owner` is
// `Send`. So moving a `Received` to another thread moves nothing that is tied to a thread.
unsafe impl Send for Received {}

impl Received {
    /// The first `len` bytes of `buf`, which a read filled (`len` at most its
    /// `bytes_total()`), received from `from` if known.
    pub(crate) fn new(buf: impl IoBuf, len: usize, from: Option<SockAddr>) -> Received {
        let ptr = buf.stable_ptr();
        debug_assert!(len <= buf.bytes_total());
        Received {
            ptr,
            pos: 0,
            end: len,
            from,
            owner: Box::new(buf),
        }
    }

    fn remaining(&self) -> usize {
        self.end - self.pos
    }

    /// Copies up to `cap` of the remaining bytes to `dst`; returns how many.
    ///
    /// # Safety
    ///
    /// `dst` must be valid for writes of `cap` bytes and not overlap this buffer.
    unsafe fn copy_to(&mut self, dst: *mut u8, cap: usize) -> usize {
        let n = self.remaining().min(cap);
        // SAFETY: `ptr + pos .. ptr + pos + n` lies within the `end` bytes the read wrote,
        // in memory `owner` keeps alive; the caller vouches for `dst`.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(self.pos), dst, n) };
        self.pos += n;
        n
    }
}

/// What a new op found here.
#[must_use]
pub(crate) enum Take<T> {
    /// Something to return instead of going to the kernel.
    Ready(T),
    /// A dropped op is still in flight: wait for it ([`Leftovers::wait`]).
    Wait,
    /// Nothing here: submit.
    Nothing,
}

/// A stream read's result from leftovers: the count (or error), and a kept buffer it
/// emptied, to drop outside the lock.
pub(crate) type StreamTake = (io::Result<usize>, Option<Box<dyn IoBuf>>);

/// A datagram taken from leftovers: its length (as copied) and its sender, if known.
pub(crate) type Datagram = (usize, Option<SockAddr>);

/// A datagram receive's result from leftovers: the datagram (or error), and the kept
/// buffer, to drop outside the lock.
pub(crate) type DatagramTake = (io::Result<Datagram>, Option<Box<dyn IoBuf>>);

impl Leftovers {
    pub(crate) fn new() -> Leftovers {
        Leftovers {
            block: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// The block, if it was ever allocated.
    fn block(&self) -> Option<&Block> {
        let block = self.block.load(Ordering::Acquire);
        // SAFETY: a non-null pointer was made by `Box::into_raw` in `block_or_new` and is
        // freed only by `Drop`, which has `&mut self`: it lives as long as `&self`.
        unsafe { block.as_ref() }
    }

    /// The block, allocated now if it was not.
    fn block_or_new(&self) -> &Block {
        if let Some(block) = self.block() {
            return block;
        }
        let new = Box::into_raw(Box::new(Block {
            active: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        }));
        match self.block.compare_exchange(
            std::ptr::null_mut(),
            new,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: `new` is ours, published now; it lives as in `block`.
            Ok(_) => unsafe { &*new },
            Err(theirs) => {
                // SAFETY: `new` was never published: ours to free.
                drop(unsafe { Box::from_raw(new) });
                // SAFETY: another thread's block, published: it lives as in `block`.
                unsafe { &*theirs }
            }
        }
    }

    /// Whether anything is here; a new op that finds nothing skips the lock.
    pub(crate) fn is_active(&self) -> bool {
        self.block()
            .is_some_and(|block| block.active.load(Ordering::Acquire))
    }

    /// Step 1: an op of this descriptor is dropped in flight.
    pub(crate) fn orphan_started(&self) {
        let block = self.block_or_new();
        let mut state = lock(&block.state);
        state.in_flight += 1;
        block.active.store(true, Ordering::Release);
    }

    /// Step 2: a dropped op completed, leaving `item` (nothing if it was cancelled). Wakes
    /// the ops waiting for it once no dropped op is in flight any more.
    pub(crate) fn orphan_finished(&self, item: Option<Item>) {
        let block = self.block_or_new();
        let waiters = {
            let mut state = lock(&block.state);
            if let Some(item) = item {
                state.items.push_back(item);
            }
            state.in_flight = state.in_flight.saturating_sub(1);
            let waiters = if state.in_flight == 0 {
                std::mem::take(&mut state.waiters)
            } else {
                Vec::new()
            };
            block.settle(&state);
            waiters
        };
        wake_all(waiters);
    }

    /// Registers `waker` to be woken when no dropped op is in flight. Returns `false` if none
    /// is (any more): take again instead of waiting.
    pub(crate) fn wait(&self, waker: &Waker) -> bool {
        let Some(block) = self.block() else {
            return false;
        };
        let waker = waker.clone();
        let mut state = lock(&block.state);
        if state.in_flight > 0 || state.accepting {
            state.waiters.push(waker);
            true
        } else {
            drop(state);
            drop(waker);
            false
        }
    }

    /// Step 3 of a stream read (a socket's `read`, a file's read at its position): takes up to
    /// `cap` bytes of the oldest leftovers into `dst`, or their error.
    ///
    /// # Safety
    ///
    /// `dst` must be valid for writes of `cap` bytes, and not be any kept buffer's memory.
    pub(crate) unsafe fn take_stream(&self, dst: *mut u8, cap: usize) -> Take<StreamTake> {
        if cap == 0 {
            // Nothing fits; a read of nothing must not consume (or look like) the end.
            return Take::Nothing;
        }
        let Some(block) = self.block() else {
            return Take::Nothing;
        };
        let mut state = lock(&block.state);
        if state.in_flight > 0 {
            return Take::Wait;
        }
        let taken = match state.items.front_mut() {
            None => return Take::Nothing,
            Some(Item::Received(received)) => {
                // SAFETY: forwarded from the caller.
                let n = unsafe { received.copy_to(dst, cap) };
                let emptied = received.remaining() == 0;
                let owner = if emptied {
                    match state.items.pop_front() {
                        Some(Item::Received(received)) => Some(received.owner),
                        _ => unreachable!("the front item is the one just read"),
                    }
                } else {
                    None
                };
                (Ok(n), owner)
            }
            Some(Item::Failed(_)) => match state.items.pop_front() {
                Some(Item::Failed(e)) => (Err(e), None),
                _ => unreachable!("the front item is a failure"),
            },
            // A stream is never a listener; drop what cannot be returned.
            Some(Item::Accepted(..)) => {
                let _ = state.items.pop_front();
                return Take::Nothing;
            }
        };
        block.settle(&state);
        Take::Ready(taken)
    }

    /// Step 3 of a datagram receive: takes the oldest datagram, copying up to `cap` bytes of
    /// it into `dst` (the rest is discarded, as `recv(2)` discards it), or its error.
    ///
    /// # Safety
    ///
    /// As [`take_stream`](Leftovers::take_stream).
    pub(crate) unsafe fn take_datagram(&self, dst: *mut u8, cap: usize) -> Take<DatagramTake> {
        let Some(block) = self.block() else {
            return Take::Nothing;
        };
        let mut state = lock(&block.state);
        if state.in_flight > 0 {
            return Take::Wait;
        }
        let taken = match state.items.pop_front() {
            None => return Take::Nothing,
            Some(Item::Received(mut received)) => {
                // SAFETY: forwarded from the caller.
                let n = unsafe { received.copy_to(dst, cap) };
                (Ok((n, received.from.take())), Some(received.owner))
            }
            Some(Item::Failed(e)) => (Err(e), None),
            Some(Item::Accepted(..)) => return Take::Nothing,
        };
        block.settle(&state);
        Take::Ready(taken)
    }

    /// Step 3 of an accept: takes the oldest connection a dropped accept left, or else, if no
    /// other accept of the listener is in the kernel, claims that place (`Take::Nothing`: the
    /// caller submits, and calls [`accept_finished`](Leftovers::accept_finished) once its
    /// accept has left the kernel).
    pub(crate) fn take_connection(&self) -> Take<(OwnedFd, SockAddr)> {
        let block = self.block_or_new();
        let mut state = lock(&block.state);
        if state.in_flight > 0 {
            return Take::Wait;
        }
        // A listener never receives: nothing else is stored for it.
        if let Some(Item::Accepted(fd, addr)) = state.items.pop_front() {
            block.settle(&state);
            return Take::Ready((fd, addr));
        }
        if state.accepting {
            return Take::Wait;
        }
        state.accepting = true;
        block.active.store(true, Ordering::Release);
        Take::Nothing
    }

    /// An accept that claimed the listener's place in the kernel
    /// ([`take_connection`](Leftovers::take_connection)) has left it (completed, failed to
    /// submit, or handed to the driver as an orphan whose completion was handled): wakes the
    /// accepts waiting for the place.
    pub(crate) fn accept_finished(&self) {
        let Some(block) = self.block() else {
            return;
        };
        let waiters = {
            let mut state = lock(&block.state);
            state.accepting = false;
            let waiters = if state.in_flight == 0 {
                std::mem::take(&mut state.waiters)
            } else {
                Vec::new()
            };
            block.settle(&state);
            waiters
        };
        wake_all(waiters);
    }

    /// Step 3 of a stream read into `buf`, all of it: `Ready(Some(result))` if it was served
    /// from leftovers (the count, with `buf`'s initialised length set, or their error),
    /// `Ready(None)` if it must go to the kernel, `Pending` (the waker registered) while a
    /// dropped read is in flight.
    pub(crate) fn read_into<B: IoBufMut>(
        &self,
        buf: &mut B,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<usize>>> {
        if !self.is_active() {
            return Poll::Ready(None);
        }
        // User code (the buffer's methods), before the lock.
        let (dst, cap) = (buf.stable_mut_ptr(), buf.bytes_total());
        loop {
            // SAFETY: `buf` is an `IoBufMut` owned by the caller's op, not yet submitted: its
            // memory is valid for `cap` bytes of writes and is not a kept buffer's.
            match unsafe { self.take_stream(dst, cap) } {
                Take::Ready((result, emptied)) => {
                    if let Ok(n) = result {
                        // SAFETY: `n <= cap` bytes were just written at the buffer's start.
                        unsafe { buf.set_init(n) };
                    }
                    drop_kept(emptied);
                    return Poll::Ready(Some(result));
                }
                Take::Wait if self.wait(cx.waker()) => return Poll::Pending,
                Take::Wait => continue,
                Take::Nothing => return Poll::Ready(None),
            }
        }
    }

    /// Step 3 of a datagram receive into `buf`: as [`read_into`](Leftovers::read_into), for one
    /// whole datagram, with its sender if it was received with one.
    pub(crate) fn receive_datagram_into<B: IoBufMut>(
        &self,
        buf: &mut B,
        cx: &mut Context<'_>,
    ) -> Poll<Option<io::Result<Datagram>>> {
        if !self.is_active() {
            return Poll::Ready(None);
        }
        let (dst, cap) = (buf.stable_mut_ptr(), buf.bytes_total());
        loop {
            // SAFETY: as in `read_into`.
            match unsafe { self.take_datagram(dst, cap) } {
                Take::Ready((result, kept)) => {
                    if let Ok((n, _)) = &result {
                        // SAFETY: `n <= cap` bytes were just written at the buffer's start.
                        unsafe { buf.set_init(*n) };
                    }
                    drop_kept(kept);
                    return Poll::Ready(Some(result));
                }
                Take::Wait if self.wait(cx.waker()) => return Poll::Pending,
                Take::Wait => continue,
                Take::Nothing => return Poll::Ready(None),
            }
        }
    }

    /// Step 3 of an accept: as [`read_into`](Leftovers::read_into), for a connection; and
    /// one accept of a listener at a time in the kernel: `Ready(None)` claims that place.
    ///
    /// The kernel arms an accept's poll as an exclusive waiter, so a new connection wakes one
    /// armed accept only; if that one is being cancelled, the wake-up is spent on it and the
    /// other armed accepts never hear of the connection, which then sits in the queue while
    /// they wait (found by `tests/chaos.rs`; `tests/tcp_accept_concurrent.rs`). With one
    /// accept in the kernel there is no other to miss it: the next accept, submitted once
    /// the cancelled one has left, finds the connection queued. Accepts on one listener are
    /// serialised by the kernel's queue anyway; concurrent acceptors now wait here instead.
    pub(crate) fn accept(&self, cx: &mut Context<'_>) -> Poll<Option<(OwnedFd, SockAddr)>> {
        loop {
            match self.take_connection() {
                Take::Ready(connection) => return Poll::Ready(Some(connection)),
                Take::Wait if self.wait(cx.waker()) => return Poll::Pending,
                Take::Wait => continue,
                Take::Nothing => return Poll::Ready(None),
            }
        }
    }
}

impl fmt::Debug for Leftovers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Leftovers")
            .field("active", &self.is_active())
            .finish_non_exhaustive()
    }
}

/// Drops a kept buffer a read emptied. Its future is gone, so a panic in its `Drop` has
/// nobody to reach: it is reported, not passed to the read that emptied it.
fn drop_kept(kept: Option<Box<dyn IoBuf>>) {
    if let Some(kept) = kept {
        isolate(
            "a read dropped the buffer of a dropped read it took bytes from",
            || {
                drop(kept);
            },
        );
    }
}

/// What a receive (a read, `recv`, `recvmsg`) whose future was dropped leaves behind when its
/// completion arrives: the bytes it received, in `buf` (with the sender `from` gives, for a
/// datagram), or the error it failed with; nothing if it was cancelled before it received
/// anything.
///
/// It runs user code (the buffer's `set_init`, `stable_ptr`, `bytes_total` and `Drop`), and
/// the caller must call [`Leftovers::orphan_finished`] whatever happens, or the descriptor
/// would count the dropped read in flight forever and every later read on it would wait for
/// it. So a panic is caught here (and logged): the item made before it is kept (an error),
/// or else nothing (the bytes of a buffer that panicked while keeping them are lost).
pub(crate) fn received<B: IoBufMut>(
    buf: B,
    completion: Completion,
    from: impl FnOnce() -> Option<SockAddr>,
) -> Option<Item> {
    let mut item = None;
    isolate(
        "the io driver kept or released the buffer of a dropped read",
        || {
            let mut buf = buf;
            match completion.result {
                n if n >= 0 => {
                    let n = n as usize;
                    // SAFETY: the kernel wrote `n` bytes at the start of the buffer, `n` being
                    // at most the length it was given, `bytes_total()`.
                    unsafe { buf.set_init(n) };
                    item = Some(Item::Received(Received::new(buf, n, from())));
                }
                // Cancelled (or interrupted) before anything was received.
                e if e == -libc::ECANCELED || e == -libc::EINTR => drop(buf),
                e => {
                    item = Some(Item::Failed(io::Error::from_raw_os_error(-e)));
                    drop(buf);
                }
            }
        },
    );
    item
}

/// Wakes each of `waiters`. Each waker is user code of its own: one that panics must not
/// cost the others their wake-up (they wait for this call alone, with no op in the kernel).
fn wake_all(waiters: Vec<Waker>) {
    for waker in waiters {
        isolate("an op woke the ops waiting for a dropped op", || {
            waker.wake()
        });
    }
}

impl Block {
    /// Clears `active` once nothing is left (called with the lock held).
    fn settle(&self, state: &State) {
        if state.in_flight == 0
            && !state.accepting
            && state.items.is_empty()
            && state.waiters.is_empty()
        {
            self.active.store(false, Ordering::Release);
        }
    }
}

impl Drop for Leftovers {
    /// The descriptor is closed with leftovers nobody took: kept buffers are the data of
    /// futures that are gone, so a panic in their `Drop` is caught and logged (it would
    /// otherwise surface in whatever code dropped the socket, perhaps while unwinding).
    fn drop(&mut self) {
        let block = self.block.swap(std::ptr::null_mut(), Ordering::AcqRel);
        if block.is_null() {
            return;
        }
        // SAFETY: made by `Box::into_raw` in `block_or_new`; `&mut self` means no reference
        // from `block()` is alive, and the pointer was just taken out: freed once.
        let Block { state, .. } = *unsafe { Box::from_raw(block) };
        let state = match state.into_inner() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        for item in state.items {
            isolate(
                "a socket was closed with the bytes of a dropped read",
                || {
                    drop(item);
                },
            );
        }
        // Wakers of ops that were dropped while they waited (their ops borrowed the socket,
        // so none is waiting any more).
        for waker in state.waiters {
            isolate("a socket was closed with the waker of a dropped op", || {
                drop(waker);
            });
        }
    }
}
