//! How the mappings of a file are shared between threads and handles.
//!
//! [`FileLock`] is the protocol of `docs/CONCURRENCY.md`: which operations on a file's bytes
//! may run together, who waits for whom, and who is refused. `records` holds the entries
//! every operation publishes. [`MapLock`] puts a writable mapping behind its file's lock and
//! hands out the guards the public views hold. The primitives below are `loom`'s under
//! `--cfg mmap_io_loom`, so the protocol is model-checked as it is compiled.

mod file;
mod map;
mod records;
#[cfg(all(test, mmap_io_loom))]
mod tests;

pub(crate) use file::{Conflict, FileLock, Ticket, Width, NO_MAP, PRIVATE, WOULD_BLOCK};
pub(crate) use map::{AtomicGuard, MapLock, ReadGuard, WriteGuard};
#[cfg(all(feature = "watch", not(mmap_io_loom)))]
pub(crate) use records::holds_views;
#[cfg(not(mmap_io_loom))]
pub(crate) use records::{count, counted, exits as thread_exits, forget};

#[cfg(mmap_io_loom)]
use loom::sync::atomic::{fence, AtomicPtr, AtomicU64, AtomicUsize};
#[cfg(not(mmap_io_loom))]
use std::sync::atomic::{fence, AtomicPtr, AtomicU64, AtomicUsize};

/// The reader's half of the asymmetric fence: with the writer's [`heavy_fence`], it orders
/// a reader's publication before its check of the bias at no run-time cost.
#[inline(always)]
fn light_fence() {
    #[cfg(mmap_io_loom)]
    fence(std::sync::atomic::Ordering::SeqCst);
    #[cfg(not(mmap_io_loom))]
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// The writer's half: a full memory barrier on every thread of the process.
fn heavy_fence() {
    #[cfg(mmap_io_loom)]
    fence(std::sync::atomic::Ordering::SeqCst);
    #[cfg(not(mmap_io_loom))]
    crate::os::process_fence();
}

/// Whether readers may be biased at all: only where [`heavy_fence`] exists.
fn bias_available() -> bool {
    #[cfg(mmap_io_loom)]
    return true;
    #[cfg(not(mmap_io_loom))]
    crate::os::process_fence_available()
}

/// Waits a little longer each round: spins first, then yields, then sleeps up to 1 ms.
fn backoff(round: &mut u32) {
    *round = round.saturating_add(1);
    #[cfg(mmap_io_loom)]
    loom::thread::yield_now();
    #[cfg(not(mmap_io_loom))]
    match *round {
        0..=64 => std::hint::spin_loop(),
        65..=80 => std::thread::yield_now(),
        n => std::thread::sleep(std::time::Duration::from_micros(1 << (n - 80).min(10))),
    }
}
