//! Whether the calling thread is exiting: past the point where the `thread_local` crate's
//! per-thread state may already be gone, so that asking it for this thread's value could
//! panic inside a thread-local destructor (which aborts the process).
//!
//! A guard is armed right after each use of a `thread_local::ThreadLocal` on a thread.
//! Thread-locals are destroyed in the reverse order of their first use, so the guard goes
//! before the crate's own, and marks the thread as exiting: from then on the callers here
//! take a path that needs no thread-local state of that crate.
//!
//! [`token`] tells threads apart for good: the `thread_local` crate gives an exited
//! thread's id to the next thread, and the C library its thread-locals' memory.
//!
//! Where thread-locals are emulated (`x86_64-pc-windows-gnu`), they are all reset while the
//! thread exits, these constants included: a destructor that runs after that sees a new
//! thread (new token, new slots, nothing held), which is safe, but a view it still holds
//! is then not known to be its own.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

thread_local! {
    /// Set when [`GUARD`] is destroyed. A constant without drop glue: always readable.
    static EXITING: Cell<bool> = const { Cell::new(false) };
    static GUARD: Guard = const { Guard };
    /// This thread's [`token`], 0 until it is first asked for.
    static TOKEN: Cell<u64> = const { Cell::new(0) };
}

struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        EXITING.with(|exiting| exiting.set(true));
        #[cfg(not(mmap_io_loom))]
        crate::sync::thread_exits();
    }
}

/// Arms the guard (call right after using a `thread_local::ThreadLocal` on this thread, or
/// before relying on [`exiting`] being set at exit): `false` once it is gone.
#[inline]
pub(crate) fn arm() -> bool {
    GUARD.try_with(|_| ()).is_ok()
}

/// Whether this thread is exiting (see the module documentation).
#[inline]
pub(crate) fn exiting() -> bool {
    EXITING.with(Cell::get)
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
