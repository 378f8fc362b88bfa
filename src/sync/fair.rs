//! The task-fair reader-writer lock that slow readers and writers queue on.

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

    pub(crate) fn lock_shared(&self) {
        use parking_lot::lock_api::RawRwLock as _;
        self.0.lock_shared();
    }

    /// Fails while the lock is held exclusively or a writer waits for it.
    pub(crate) fn try_lock_shared(&self) -> bool {
        use parking_lot::lock_api::RawRwLock as _;
        self.0.try_lock_shared()
    }

    /// # Safety
    ///
    /// The lock is held shared by the caller (on any thread).
    pub(crate) unsafe fn unlock_shared(&self) {
        use parking_lot::lock_api::RawRwLock as _;
        // SAFETY: the caller holds a shared lock.
        unsafe { self.0.unlock_shared() }
    }

    pub(crate) fn lock_exclusive(&self) {
        use parking_lot::lock_api::RawRwLock as _;
        self.0.lock_exclusive();
    }

    pub(crate) fn try_lock_exclusive(&self) -> bool {
        use parking_lot::lock_api::RawRwLock as _;
        self.0.try_lock_exclusive()
    }

    /// # Safety
    ///
    /// The lock is held exclusively by the caller (on any thread).
    pub(crate) unsafe fn unlock_exclusive(&self) {
        use parking_lot::lock_api::RawRwLock as _;
        // SAFETY: the caller holds the exclusive lock.
        unsafe { self.0.unlock_exclusive() }
    }
}

/// The model of the same lock for `loom`: writers first, readers wait while one waits.
#[cfg(mmap_io_loom)]
pub(crate) struct Fair {
    state: loom::sync::Mutex<(usize, bool, usize)>,
    changed: loom::sync::Condvar,
}

#[cfg(mmap_io_loom)]
impl Fair {
    pub(crate) fn new() -> Self {
        Self {
            state: loom::sync::Mutex::new((0, false, 0)),
            changed: loom::sync::Condvar::new(),
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
    }

    pub(crate) fn try_lock_exclusive(&self) -> bool {
        let mut s = self.state.lock().unwrap();
        let free = !s.1 && s.0 == 0;
        s.1 |= free;
        free
    }

    pub(crate) unsafe fn unlock_exclusive(&self) {
        self.state.lock().unwrap().1 = false;
        self.changed.notify_all();
    }
}
