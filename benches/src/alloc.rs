//! A counting global allocator, used to measure memory per idle task.
//!
//! [`CountingAlloc`] forwards every call to an inner allocator: [`System`] (glibc's
//! malloc), or jemalloc or mimalloc when the bench is built with the `jemalloc` or
//! `mimalloc` feature, as many servers run. While a measurement is running
//! (see [`measure_allocations`]) it also adds each allocation's size and each
//! deallocation's size to global counters, from every thread. Outside a measurement it
//! costs one relaxed load of a flag per call, so the timed workloads are not disturbed by
//! counter traffic between cores.
//!
//! Only the `ringloop-bench` binary installs it as `#[global_allocator]`; a program that
//! does not (the criterion benches) sees zero counts, and [`measure_allocations`] reports
//! that with `None`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATED_BYTES: AtomicUsize = AtomicUsize::new(0);
static FREED_BYTES: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

/// A global allocator that forwards to `A` and counts while a measurement runs.
///
/// Install it in a binary with
/// `#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc::new(System);`.
#[derive(Debug, Default, Clone, Copy)]
pub struct CountingAlloc<A = System> {
    inner: A,
}

impl<A> CountingAlloc<A> {
    /// Counts the allocations made through `inner`.
    pub const fn new(inner: A) -> Self {
        CountingAlloc { inner }
    }
}

impl<A> CountingAlloc<A> {
    fn on_alloc(size: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATED_BYTES.fetch_add(size, Ordering::Relaxed);
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_free(size: usize) {
        if COUNTING.load(Ordering::Relaxed) {
            FREED_BYTES.fetch_add(size, Ordering::Relaxed);
        }
    }
}

// SAFETY: every method forwards to `A` with the caller's arguments unchanged, so `A`'s
// guarantees are ours; the counting touches only atomics and never allocates.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        Self::on_alloc(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        Self::on_alloc(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        Self::on_free(layout.size());
        // SAFETY: `ptr` was allocated by `inner` (through us) with `layout`.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A reallocation counts as freeing the old block and allocating the new one.
        Self::on_free(layout.size());
        Self::on_alloc(new_size);
        // SAFETY: `ptr` was allocated by `inner` with `layout`; the caller upholds the
        // rest of `GlobalAlloc::realloc`'s contract.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}

/// The allocator the `ringloop-bench` binary was built with, as the report names it.
pub fn allocator_name() -> &'static str {
    if cfg!(feature = "jemalloc") {
        "jemalloc (tikv-jemallocator)"
    } else if cfg!(feature = "mimalloc") {
        "mimalloc"
    } else {
        "the system allocator (glibc malloc)"
    }
}

/// What the process allocated while a closure ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocDelta {
    /// Bytes allocated minus bytes freed: memory that is still live afterwards.
    pub live_bytes: isize,
    /// Every byte allocated, including blocks freed again (buffers that grew, temporaries).
    pub allocated_bytes: usize,
    /// Number of allocations (a `realloc` counts as one).
    pub allocations: usize,
}

/// Turns counting on for the rest of the process's life: for a process that measures from
/// its start to its end, like the server child of the I/O workloads (see
/// [`live_bytes_counted`]). Not to be mixed with [`measure_allocations`], which turns
/// counting off when it ends.
pub(crate) fn count_from_now() {
    COUNTING.store(true, Ordering::SeqCst);
}

/// Bytes allocated minus bytes freed while counting was on; `None` if [`CountingAlloc`] is
/// not the global allocator (nothing was counted).
pub(crate) fn live_bytes_counted() -> Option<isize> {
    if ALLOCATIONS.load(Ordering::SeqCst) == 0 {
        return None;
    }
    let allocated = ALLOCATED_BYTES.load(Ordering::SeqCst) as isize;
    let freed = FREED_BYTES.load(Ordering::SeqCst) as isize;
    Some(allocated - freed)
}

/// Runs `f` with counting on and returns its result with what every thread allocated.
///
/// Returns `None` for the delta if [`CountingAlloc`] is not the global allocator (nothing
/// was counted). Measurements must not overlap; the suite runs one sample at a time.
pub fn measure_allocations<T>(f: impl FnOnce() -> T) -> (T, Option<AllocDelta>) {
    let allocated = ALLOCATED_BYTES.load(Ordering::SeqCst);
    let freed = FREED_BYTES.load(Ordering::SeqCst);
    let count = ALLOCATIONS.load(Ordering::SeqCst);
    COUNTING.store(true, Ordering::SeqCst);
    let out = f();
    COUNTING.store(false, Ordering::SeqCst);
    let allocated = ALLOCATED_BYTES.load(Ordering::SeqCst) - allocated;
    let freed = FREED_BYTES.load(Ordering::SeqCst) - freed;
    let allocations = ALLOCATIONS.load(Ordering::SeqCst) - count;
    if allocations == 0 {
        return (out, None);
    }
    let delta = AllocDelta {
        live_bytes: allocated as isize - freed as isize,
        allocated_bytes: allocated,
        allocations,
    };
    (out, Some(delta))
}
