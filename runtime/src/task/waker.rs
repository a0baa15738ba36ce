//! Wakers for tasks: a `RawWaker` whose data pointer is the task header, counted with the
//! task's reference count. Waking never allocates.

use super::harness;
use super::raw::Header;
use std::mem::ManuallyDrop;
use std::ops::Deref;
use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker that borrows a reference the caller holds, for the duration of one poll: making it
/// costs nothing, cloning it takes a reference of its own.
pub(crate) struct BorrowedWaker {
    waker: ManuallyDrop<Waker>,
}

impl Deref for BorrowedWaker {
    type Target = Waker;
    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// # Safety
/// The caller holds a reference to the task for as long as the returned waker lives.
pub(crate) unsafe fn borrowed(ptr: NonNull<Header>) -> BorrowedWaker {
    let raw = RawWaker::new(ptr.as_ptr() as *const (), &VTABLE);
    // SAFETY: the vtable's functions uphold RawWaker's contract for task headers, and the
    // ManuallyDrop means this waker never gives up the reference it borrows.
    let waker = unsafe { Waker::from_raw(raw) };
    BorrowedWaker {
        waker: ManuallyDrop::new(waker),
    }
}

fn header(data: *const ()) -> NonNull<Header> {
    // SAFETY: every waker built here carries a non-null header pointer.
    unsafe { NonNull::new_unchecked(data as *mut Header) }
}

unsafe fn clone(data: *const ()) -> RawWaker {
    let ptr = header(data);
    // SAFETY: the waker being cloned holds a reference, so the header is alive.
    unsafe { ptr.as_ref() }.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    harness::wake_by_val(header(data));
}

unsafe fn wake_by_ref(data: *const ()) {
    harness::wake_by_ref(header(data));
}

unsafe fn drop_waker(data: *const ()) {
    let ptr = header(data);
    // SAFETY: the waker being dropped holds a reference, so the header is alive.
    let header = unsafe { ptr.as_ref() };
    if header.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { (header.vtable.dealloc)(ptr) };
    }
}
