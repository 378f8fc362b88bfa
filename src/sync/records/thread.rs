//! Which record is the calling thread's, and the write counts records keep.

use super::{Record, Records};
use std::cell::Cell;
use std::sync::atomic::Ordering::{Acquire, Relaxed};

/// The records of the process.
pub(crate) static RECORDS: Records = Records::new();

thread_local! {
    /// This thread's record while its exit guard is armed; constant, so readable
    /// while thread-locals are destroyed.
    static CURRENT: Cell<*const Record> = const { Cell::new(std::ptr::null()) };
}

/// The records every file lock uses.
#[inline(always)]
pub(crate) fn records() -> &'static Records {
    &RECORDS
}

/// The calling thread's record.
#[inline(always)]
pub(crate) fn mine() -> &'static Record {
    let record = CURRENT.with(Cell::get);
    if !record.is_null() {
        // SAFETY: records are never freed, and this one is ours until `exits`.
        return unsafe { &*record };
    }
    mine_slow()
}

#[cold]
#[inline(never)]
fn mine_slow() -> &'static Record {
    let token = crate::thread_exit::token();
    if crate::thread_exit::arm() {
        let record = RECORDS.acquire(token, false);
        CURRENT.with(|c| c.set(record));
        record
    } else {
        // The exit guard is gone: a record for this one publication.
        RECORDS.acquire(token, true)
    }
}

/// The calling thread's token.
#[inline]
pub(crate) fn me() -> u64 {
    crate::thread_exit::token()
}

/// Counts a write of `bytes` for the mapping with flush-state id `of` (never 0) in the
/// calling thread's record, with plain loads and stores (no read-modify-write on a write
/// path). False where it cannot (no record of its own at this point of its life, or
/// its slots count for other mappings): count elsewhere then.
#[inline]
pub(crate) fn count(of: u64, bytes: u64) -> bool {
    let record = CURRENT.with(Cell::get);
    // SAFETY: as in `mine`.
    unsafe { record.as_ref() }.is_some_and(|r| r.count(of, bytes))
}

/// The bytes and writes every record counted for `of`. Each only grows while `of`
/// lives.
pub(crate) fn counted(of: u64) -> (u64, u64) {
    let (mut bytes, mut writes) = (0u64, 0u64);
    for record in RECORDS.iter() {
        for slot in &record.counts {
            if slot.of.load(Acquire) == of {
                bytes = bytes.wrapping_add(slot.bytes.load(Relaxed));
                writes = writes.wrapping_add(slot.writes.load(Relaxed));
            }
        }
    }
    (bytes, writes)
}

/// Frees the slots that count for `of`: its mapping is gone (nothing counts for it
/// any more).
pub(crate) fn forget(of: u64) {
    for record in RECORDS.iter() {
        for slot in &record.counts {
            if slot.of.load(Relaxed) == of {
                slot.of.store(0, Relaxed);
            }
        }
    }
}

/// Whether the calling code holds a live entry (a view, a write, an atomic view) of any
/// file.
#[cfg_attr(not(feature = "watch"), allow(dead_code))]
#[cfg_attr(not(feature = "watch"), allow(dead_code))]
pub(crate) fn holds_views() -> bool {
    let token = me();
    RECORDS.iter().any(|r| r.token() == token && !r.idle())
}

/// The calling thread exits: its record becomes an orphan.
pub(crate) fn exits() {
    let record = CURRENT.with(|c| c.replace(std::ptr::null()));
    // SAFETY: as in `mine`.
    if let Some(record) = unsafe { record.as_ref() } {
        record.orphan();
    }
}
