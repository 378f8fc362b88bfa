//! The task-fair reader-writer lock that slow readers and writers queue on.

#[cfg(mmap_io_loom)]
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// A raw, task-fair reader-writer lock: a reader that arrives while a writer waits queues
/// behind it. Nothing in it is tied to a thread, so it may be released on any thread.
#[cfg(not(mmap_io_loom))]
pub(crate) struct Fair(parking_lot::RawRwLock);

#[cfg(not(mmap_io_loom))]
impl Fair {
    pub(crate) fn new() -> Self {
        use parking_lot::lock_api::RawRwLock as _;
        Self(parking_lot::RawRwLock::INIT)
    }

    #[inline]
    pub(crate) fn lock_shared(&self) {
        use parking_lot::lock_api::RawRwLock as _;
        self.0.lock_shared();
    }

    /// Fails while the lock is held exclusively or a writer waits for it.
    #[inline]
    pub(crate) fn try_lock_shared(&self) -> bool {
        use parking_lot::lock_api::RawRwLock as _;
        self.0.try_lock_shared()
    }

    /// # Safety
    ///
    /// The lock is held shared by the caller (on any thread).
    #[inline]
    pub(crate) unsafe fn unlock_shared(&self) {
        use parking_lot::lock_api::RawRwLock as _;
        // SAFETY: the caller holds a shared lock.
        unsafe { self.0.unlock_shared() }
    }

    #[inline]
    pub(crate) fn lock_exclusive(&self) {
        use parking_lot::lock_api::RawRwLock as _;
        self.0.lock_exclusive();
    }

    #[inline]
    pub(crate) fn try_lock_exclusive(&self) -> bool {
        use parking_lot::lock_api::RawRwLock as _;
        self.0.try_lock_exclusive()
    }

    /// Whether the lock is held exclusively (or a writer that took it waits for shared
    /// holders to leave).
    #[inline]
    pub(crate) fn is_locked_exclusive(&self) -> bool {
        use parking_lot::lock_api::RawRwLock as _;
        self.0.is_locked_exclusive()
    }

    /// # Safety
    ///
    /// The lock is held exclusively by the caller (on any thread).
    #[inline]
    pub(crate) unsafe fn unlock_exclusive(&self) {
        use parking_lot::lock_api::RawRwLock as _;
        // SAFETY: the caller holds the exclusive lock.
        unsafe { self.0.unlock_exclusive() }
    }
}

/// The model of the same lock for `loom`: writers first, readers wait while one waits.
///
/// `exclusive` mirrors the writer bit of `parking_lot`'s state word, with its orderings: set
/// by an acquiring read-modify-write, read with a relaxed load, cleared with a release store,
/// so that the model checks what the lock's callers may assume of the real word.
#[cfg(mmap_io_loom)]
pub(crate) struct Fair {
    state: loom::sync::Mutex<(usize, bool, usize)>,
    changed: loom::sync::Condvar,
    exclusive: loom::sync::atomic::AtomicBool,
}

#[cfg(mmap_io_loom)]
impl Fair {
    pub(crate) fn new() -> Self {
        Self {
            state: loom::sync::Mutex::new((0, false, 0)),
            changed: loom::sync::Condvar::new(),
            exclusive: loom::sync::atomic::AtomicBool::new(false),
        }
    }

    pub(crate) fn lock_shared(&self) {
        let mut s = self.state.lock().unwrap();
        while s.1 || s.2 > 0 {
            s = self.changed.wait(s).unwrap();
        }
        s.0 += 1;
    }

    pub(crate) fn try_lock_shared(&self) -> bool {
        let mut s = self.state.lock().unwrap();
        let free = !s.1 && s.2 == 0;
        s.0 += usize::from(free);
        free
    }

    pub(crate) unsafe fn unlock_shared(&self) {
        self.state.lock().unwrap().0 -= 1;
        self.changed.notify_all();
    }

    pub(crate) fn lock_exclusive(&self) {
        let mut s = self.state.lock().unwrap();
        s.2 += 1;
        while s.1 || s.0 > 0 {
            s = self.changed.wait(s).unwrap();
        }
        s.2 -= 1;
        s.1 = true;
        self.exclusive.swap(true, Acquire);
    }

    pub(crate) fn try_lock_exclusive(&self) -> bool {
        let mut s = self.state.lock().unwrap();
        let free = !s.1 && s.0 == 0;
        if free {
            s.1 = true;
            self.exclusive.swap(true, Acquire);
        }
        free
    }

    pub(crate) fn is_locked_exclusive(&self) -> bool {
        self.exclusive.load(Relaxed)
    }

    pub(crate) unsafe fn unlock_exclusive(&self) {
        let mut s = self.state.lock().unwrap();
        self.exclusive.store(false, Release);
        s.1 = false;
        drop(s);
        self.changed.notify_all();
    }
}
