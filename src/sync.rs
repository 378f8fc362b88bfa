//! The lock that guards a writable mapping.
//!
//! A reader-writer lock split into shards, one cache line each. A reader locks only the
//! shard of its thread, so readers on different threads never write the same cache line and
//! reads scale across cores; a writer locks every shard, in order. Readers lock their shard
//! recursively: a thread that already holds a read guard (a live slice, view or iterator
//! item) and asks for another while a writer is queued gets it, instead of deadlocking
//! behind a writer that waits for its first guard.

use memmap2::MmapMut;
use parking_lot::lock_api::{RawRwLock as _, RawRwLockRecursive as _};
use parking_lot::RawRwLock;
use std::cell::{Cell, UnsafeCell};
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// One shard's lock, alone on its cache line (128 bytes covers adjacent-line prefetch).
#[repr(align(128))]
struct Shard(RawRwLock);

/// A writable mapping and the sharded reader-writer lock that guards it.
pub(crate) struct MapLock {
    shards: Box<[Shard]>,
    map: UnsafeCell<MmapMut>,
}

// SAFETY: the mapping is only reached through guards: shared access under a shard's read
// lock, exclusive access under every shard's write lock. `MmapMut` itself is `Send + Sync`.
unsafe impl Sync for MapLock {}
// SAFETY: as above; moving the lock moves the `MmapMut`, which is `Send`.
unsafe impl Send for MapLock {}

/// As many shards as the machine runs threads at once (a power of two, at most 16).
fn shard_count() -> usize {
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(4, |n| n.get())
            .clamp(1, 16)
            .next_power_of_two()
    })
}

/// This thread's shard number, before reduction to a lock's shard count: threads are
/// numbered in the order they first read, so concurrent readers land on different shards.
#[inline(always)]
fn thread_slot() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SLOT: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    SLOT.with(|slot| {
        if slot.get() == usize::MAX {
            slot.set(NEXT.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> 1));
        }
        slot.get()
    })
}

/// Shared access to the mapping; released on drop, on the thread that took it.
pub(crate) struct ReadGuard<'a> {
    lock: &'a MapLock,
    shard: usize,
    /// Guards stay on their thread (`!Send`): the shard was picked for this thread.
    _not_send: PhantomData<*const ()>,
}

/// Exclusive access to the mapping; released on drop.
pub(crate) struct WriteGuard<'a> {
    lock: &'a MapLock,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing a `&ReadGuard` only shares `&MmapMut`, and `MmapMut` is `Sync`.
unsafe impl Sync for ReadGuard<'_> {}
// SAFETY: sharing a `&WriteGuard` only allows `&MmapMut` (mutation needs `&mut` to the guard).
unsafe impl Sync for WriteGuard<'_> {}

impl MapLock {
    pub(crate) fn new(map: MmapMut) -> Self {
        Self {
            shards: (0..shard_count()).map(|_| Shard(RawRwLock::INIT)).collect(),
            map: UnsafeCell::new(map),
        }
    }

    /// Shared access; never waits for a queued writer, only for one that holds the lock.
    #[inline(always)]
    pub(crate) fn read(&self) -> ReadGuard<'_> {
        let shard = thread_slot() & (self.shards.len() - 1);
        self.shards[shard].0.lock_shared_recursive();
        ReadGuard {
            lock: self,
            shard,
            _not_send: PhantomData,
        }
    }

    /// Exclusive access: waits for every live read and write guard.
    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_> {
        // Always in the same order, so two writers cannot deadlock.
        for shard in self.shards.iter() {
            shard.0.lock_exclusive();
        }
        WriteGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }
}

impl Deref for ReadGuard<'_> {
    type Target = MmapMut;

    #[inline]
    fn deref(&self) -> &MmapMut {
        // SAFETY: we hold a read lock on a shard, so no writer (which needs every shard)
        // holds the mapping exclusively while this borrow lives.
        unsafe { &*self.lock.map.get() }
    }
}

impl Drop for ReadGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: this guard locked this shard for reading in `MapLock::read`.
        unsafe { self.lock.shards[self.shard].0.unlock_shared() }
    }
}

impl Deref for WriteGuard<'_> {
    type Target = MmapMut;

    #[inline]
    fn deref(&self) -> &MmapMut {
        // SAFETY: we hold every shard exclusively: no other guard exists.
        unsafe { &*self.lock.map.get() }
    }
}

impl DerefMut for WriteGuard<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut MmapMut {
        // SAFETY: we hold every shard exclusively, and `&mut self` makes this borrow unique.
        unsafe { &mut *self.lock.map.get() }
    }
}

impl Drop for WriteGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        for shard in self.lock.shards.iter().rev() {
            // SAFETY: `MapLock::write` locked every shard exclusively for this guard.
            unsafe { shard.0.unlock_exclusive() }
        }
    }
}
