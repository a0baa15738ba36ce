//! The item storage of the three queue kinds: FIFO, LIFO and smallest-first.
//!
//! One enum instead of a type parameter keeps [`Core`](super::core::Core), its futures and
//! its errors shared by [`Queue`](crate::Queue), [`LifoQueue`](crate::LifoQueue) and
//! [`PriorityQueue`](crate::PriorityQueue). The heap takes its comparison as a function
//! pointer captured when the `PriorityQueue` is built (where `T: Ord` is known), so nothing
//! else needs the `Ord` bound.

use std::collections::VecDeque;

/// Where a queue keeps its items.
pub(crate) enum Buffer<T> {
    /// First in, first out.
    Fifo(VecDeque<T>),
    /// Last in, first out.
    Lifo(Vec<T>),
    /// Smallest first.
    Priority(MinHeap<T>),
}

impl<T> Buffer<T> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Buffer::Fifo(items) => items.len(),
            Buffer::Lifo(items) => items.len(),
            Buffer::Priority(heap) => heap.items.len(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn push(&mut self, item: T) {
        match self {
            Buffer::Fifo(items) => items.push_back(item),
            Buffer::Lifo(items) => items.push(item),
            Buffer::Priority(heap) => heap.push(item),
        }
    }

    pub(crate) fn pop(&mut self) -> Option<T> {
        match self {
            Buffer::Fifo(items) => items.pop_front(),
            Buffer::Lifo(items) => items.pop(),
            Buffer::Priority(heap) => heap.pop(),
        }
    }

    /// Moves every item out, leaving an empty buffer of the same kind.
    pub(crate) fn take_all(&mut self) -> Buffer<T> {
        let empty = match self {
            Buffer::Fifo(_) => Buffer::Fifo(VecDeque::new()),
            Buffer::Lifo(_) => Buffer::Lifo(Vec::new()),
            Buffer::Priority(heap) => Buffer::Priority(MinHeap {
                items: Vec::new(),
                less: heap.less,
            }),
        };
        std::mem::replace(self, empty)
    }
}

/// A binary min-heap (like Python's `heapq`) ordered by a comparison function.
pub(crate) struct MinHeap<T> {
    items: Vec<T>,
    less: fn(&T, &T) -> bool,
}

impl<T: Ord> MinHeap<T> {
    pub(crate) fn new() -> Self {
        MinHeap {
            items: Vec::new(),
            less: |a, b| a < b,
        }
    }
}

impl<T> MinHeap<T> {
    fn push(&mut self, item: T) {
        self.items.push(item);
        let mut child = self.items.len() - 1;
        while child > 0 {
            let parent = (child - 1) / 2;
            if !(self.less)(&self.items[child], &self.items[parent]) {
                break;
            }
            self.items.swap(child, parent);
            child = parent;
        }
    }

    fn pop(&mut self) -> Option<T> {
        if self.items.is_empty() {
            return None;
        }
        let smallest = self.items.swap_remove(0);
        let len = self.items.len();
        let mut parent = 0;
        loop {
            let left = 2 * parent + 1;
            if left >= len {
                break;
            }
            let right = left + 1;
            let child = if right < len && (self.less)(&self.items[right], &self.items[left]) {
                right
            } else {
                left
            };
            if !(self.less)(&self.items[child], &self.items[parent]) {
                break;
            }
            self.items.swap(child, parent);
            parent = child;
        }
        Some(smallest)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn heap_pops_in_sorted_order() {
        let mut buffer = Buffer::Priority(MinHeap::new());
        let input = [5, 3, 9, 1, 1, 7, 0, 12, 4, 4, 8, 2, 6];
        for x in input {
            buffer.push(x);
        }
        let mut sorted = input.to_vec();
        sorted.sort();
        let out: Vec<_> = std::iter::from_fn(|| buffer.pop()).collect();
        assert_eq!(out, sorted);
    }

    #[test]
    fn heap_interleaved_push_pop() {
        let mut heap = MinHeap::new();
        let mut model = std::collections::BinaryHeap::new();
        let mut x: u64 = 12345;
        for i in 0..2000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if i % 3 == 2 {
                assert_eq!(heap.pop(), model.pop().map(|std::cmp::Reverse(v)| v));
            } else {
                let v = x >> 54;
                heap.push(v);
                model.push(std::cmp::Reverse(v));
            }
        }
    }

    #[test]
    fn fifo_and_lifo_order() {
        let mut fifo = Buffer::Fifo(VecDeque::new());
        let mut lifo = Buffer::Lifo(Vec::new());
        for i in 0..3 {
            fifo.push(i);
            lifo.push(i);
        }
        let taken = fifo.take_all();
        assert!(fifo.is_empty());
        assert_eq!(taken.len(), 3);
        assert_eq!(lifo.pop(), Some(2));
    }
}
