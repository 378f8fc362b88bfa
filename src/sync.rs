//! The lock that guards a writable mapping.
//!
//! Readers take it recursively: a thread that already holds a read guard (a live slice,
//! view or iterator item) and asks for another while a writer is queued must not deadlock.

use memmap2::MmapMut;

/// A writable mapping and the reader-writer lock that guards it.
pub(crate) struct MapLock {
    lock: parking_lot::RwLock<MmapMut>,
}

pub(crate) type ReadGuard<'a> = parking_lot::RwLockReadGuard<'a, MmapMut>;
pub(crate) type WriteGuard<'a> = parking_lot::RwLockWriteGuard<'a, MmapMut>;

impl MapLock {
    pub(crate) fn new(map: MmapMut) -> Self {
        Self {
            lock: parking_lot::RwLock::new(map),
        }
    }

    /// Shared access; never waits for a queued writer while this thread holds a guard.
    #[inline]
    pub(crate) fn read(&self) -> ReadGuard<'_> {
        self.lock.read_recursive()
    }

    /// Exclusive access: waits for every live read and write guard.
    #[inline]
    pub(crate) fn write(&self) -> WriteGuard<'_> {
        self.lock.write()
    }
}
