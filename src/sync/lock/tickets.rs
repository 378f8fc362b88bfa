//! What the lock's tickets do: publishing and unpublishing a view, checking a write against
//! atomic views, and releasing the lock or a registration when a ticket drops.

use super::*;

impl<'a> ReadTicket<'a> {
    /// Publishes a view of `start..end` in `slot` (the calling thread's): in a free entry,
    /// or, when all are in use, as a view of unknown range.
    #[inline(always)]
    pub(super) fn publish(slot: &'a Slot, kind: usize, start: usize, end: usize) -> Self {
        let held = match slot.claim() {
            Some(entry) => {
                entry.publish(kind, start, end);
                Held::Entry(entry)
            }
            None => {
                slot.publish_wide(start, end);
                Held::Wide(slot.wide())
            }
        };
        ReadTicket { held }
    }

    /// Whether `slot` publishes a view other than this one.
    pub(super) fn holds_other(&self, slot: &Slot) -> bool {
        match self.held {
            Held::Entry(entry) => slot.busy(Some(entry)),
            Held::Wide(wide) => wide.load(Acquire) > 1 || slot.views(None).next().is_some(),
        }
    }
}

impl Drop for ReadTicket<'_> {
    #[inline]
    fn drop(&mut self) {
        match self.held {
            Held::Entry(entry) => entry.free(),
            Held::Wide(wide) => {
                wide.fetch_sub(1, Release);
            }
        }
    }
}

impl WriteTicket<'_> {
    /// Keeps the lock held after the ticket is gone; release it with
    /// [`ViewLock::release_write`].
    #[inline]
    pub(crate) fn keep(self) {
        std::mem::forget(self);
    }
}

impl ViewLock {
    /// Refuses a write of `start..end` that overlaps a live atomic view; the caller holds a
    /// write ticket.
    #[inline]
    pub(crate) fn check_write(&self, start: usize, end: usize) -> Result<(), Conflict> {
        if self.atomic_over((start, end)) {
            return Err(OVERLAPS_ATOMIC);
        }
        Ok(())
    }

    /// Releases exclusive access.
    ///
    /// # Safety
    ///
    /// The caller holds a write ticket of this lock that it [kept](WriteTicket::keep), and
    /// releases it once.
    #[inline]
    pub(crate) unsafe fn release_write(&self) {
        self.exclusive_owner.store(std::ptr::null_mut(), Relaxed);
        // SAFETY: the ticket held `fair` exclusively (taken in `ViewLock::write`); the
        // lock is not tied to the thread that took it.
        unsafe { self.fair.unlock_exclusive() };
    }
}

impl Drop for WriteTicket<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: this ticket holds the lock, and is dropped once.
        unsafe { self.lock.release_write() };
    }
}

impl Drop for AtomicTicket<'_> {
    #[inline]
    fn drop(&mut self) {
        match *self {
            AtomicTicket {
                entry: Some(entry), ..
            } => entry.free(),
            AtomicTicket { lock, id, .. } => {
                let mut registry = lock.registry();
                registry.views.retain(|v| v.id != id);
                lock.atomics.fetch_sub(1, Release);
            }
        }
    }
}
