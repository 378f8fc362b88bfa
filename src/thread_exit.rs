//! The hook of thread exit, and a token that tells threads apart for good.
//!
//! A guard is armed at a thread's first use of a mapping. Thread-locals are destroyed in
//! the reverse order of their first use: when the guard goes, it orphans the thread's
//! record (`crate::sync`), and from then on the thread publishes in records of one entry
//! each. A use in a thread-local destructor that runs before the guard's finds the thread's
//! record as usual.
//!
//! [`token`] tells threads apart for good: the C library reuses an exited thread's
//! thread-local memory, and its id, for the next thread.
//!
//! Where thread-locals are emulated (`x86_64-pc-windows-gnu`), they are all reset while the
//! thread exits, these constants included: a destructor that runs after that sees a new
//! thread (new token, new records, nothing held), which is safe, but a view it still holds
//! is then not known to be its own.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

thread_local! {
    static GUARD: Guard = const { Guard };
    /// This thread's [`token`], 0 until it is first asked for.
    static TOKEN: Cell<u64> = const { Cell::new(0) };
}

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        #[cfg(not(mmap_io_loom))]
        crate::sync::thread_exits();
    }
}

/// Arms the guard (before relying on it at exit): `false` once it is gone.
#[inline]
pub(crate) fn arm() -> bool {
    GUARD.try_with(|_| ()).is_ok()
}

/// The calling thread's identity: a number no other thread of the process is ever given,
/// never 0. Readable at any time, thread exit included (a constant thread-local without
/// drop glue).
#[inline]
pub(crate) fn token() -> u64 {
    TOKEN.with(|token| match token.get() {
        0 => {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            let new = NEXT.fetch_add(1, Relaxed);
            token.set(new);
            new
        }
        known => known,
    })
}
