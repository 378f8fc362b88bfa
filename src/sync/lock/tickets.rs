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
    /// Refuses a write of `start..end` that overlaps a live atomic view.
    pub(crate) fn check_atomics(&self, start: usize, end: usize) -> Result<(), Conflict> {
        let lock = self.lock;
        if lock.atomics.load(SeqCst) > 0
            && lock
                .registry()
                .views
                .iter()
                .any(|v| overlaps((v.start, v.end), (start, end)))
        {
            return Err(OVERLAPS_ATOMIC);
        }
        Ok(())
    }
}

impl Drop for WriteTicket<'_> {
    fn drop(&mut self) {
        let lock = self.lock;
        lock.writer_in.store(false, Release);
        lock.exclusive_owner.store(std::ptr::null_mut(), Relaxed);
        // SAFETY: this ticket holds `fair` exclusively (taken in `ViewLock::write`); the
        // lock is not tied to the thread that took it.
        unsafe { lock.fair.unlock_exclusive() };
    }
}

impl Drop for AtomicTicket<'_> {
    fn drop(&mut self) {
        let mut registry = self.lock.registry();
        registry.views.retain(|v| v.id != self.id);
        self.lock.atomics.fetch_sub(1, Release);
    }
}
