//! How a writable mapping is shared between threads.
//!
//! [`ViewLock`] is the protocol: which views may live together, who waits for whom, and
//! who is refused. [`MapLock`] puts a mapping behind it and hands out the guards the
//! public views hold. The primitives below are `loom`'s under `--cfg mmap_io_loom`, so the protocol
//! is model-checked as it is compiled.

mod fair;
mod lock;
mod map;
mod slots;
#[cfg(all(test, mmap_io_loom))]
mod tests;

pub(crate) use lock::{Conflict, ReadTicket, Width, WOULD_BLOCK};
pub(crate) use map::{AtomicGuard, MapLock, ReadGuard, WriteGuard};
pub(crate) use slots::forget_cached_slot;

#[cfg(mmap_io_loom)]
use loom::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize};
#[cfg(not(mmap_io_loom))]
use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize};

/// The reader's half of the asymmetric fence: with the writer's [`heavy_fence`], it orders
/// a reader's publication before its check of the bias at no run-time cost.
#[inline(always)]
fn light_fence() {
    #[cfg(mmap_io_loom)]
    fence(std::sync::atomic::Ordering::SeqCst);
    #[cfg(not(mmap_io_loom))]
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
}

/// Orders the read-modify-write that just took a lock before the loads that follow, as a
/// `SeqCst` fence would: a thread that published a view and then fenced either sees the
/// lock taken or is seen by those loads. On x86-64 the locked instruction is itself a full
/// barrier (and the acquire ordering keeps the compiler from moving the loads above it);
/// elsewhere, and in the `loom` model, it is a real fence.
#[inline(always)]
fn lock_fence() {
    #[cfg(any(mmap_io_loom, not(target_arch = "x86_64")))]
    fence(std::sync::atomic::Ordering::SeqCst);
    #[cfg(not(any(mmap_io_loom, not(target_arch = "x86_64"))))]
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
