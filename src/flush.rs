//! When dirty pages are written back: [`FlushPolicy`], and the background flusher behind
//! [`FlushPolicy::EveryMillis`].

use crate::errors::MmapIoError;
use crate::mmap::Inner;
use parking_lot::{Condvar, Mutex};
use std::io;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// When a read-write mapping writes its dirty pages back to the file on its own.
///
/// Whatever the policy, [`flush`](crate::MemoryMappedFile::flush) is durable on every call.
/// Automatic flushes are full, durable flushes too. A count of 0 (`EveryBytes(0)`,
/// `EveryWrites(0)`, `EveryMillis(0)`) behaves as [`Manual`](FlushPolicy::Manual).
/// Read-only and copy-on-write mappings never flush, whatever the policy.
///
/// # Examples
///
/// ```
/// use mmap_io::{flush::FlushPolicy, MemoryMappedFile, MmapMode};
///
/// let dir = tempfile::tempdir()?;
/// let mmap = MemoryMappedFile::builder(dir.path().join("log.bin"))
///     .mode(MmapMode::ReadWrite)
///     .size(1 << 20)
///     .flush_policy(FlushPolicy::EveryBytes(256 * 1024))
///     .create()?;
/// assert_eq!(mmap.flush_policy(), FlushPolicy::EveryBytes(256 * 1024));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FlushPolicy {
    /// No automatic flushing; call `flush()` for durability. The default.
    #[default]
    Never,
    /// Same as [`Never`](FlushPolicy::Never).
    Manual,
    /// Flush after every `update_region` (and `SegmentMut::write`).
    Always,
    /// Flush when at least this many bytes were written since the last flush.
    EveryBytes(usize),
    /// Flush after this many writes since the last flush.
    EveryWrites(usize),
    /// Flush pending writes every this many milliseconds, from a background thread that
    /// stops and is joined when the last handle to the mapping is dropped.
    EveryMillis(u64),
}

impl FlushPolicy {
    /// The background flusher's period, if this policy has one.
    pub(crate) fn interval(self) -> Option<Duration> {
        match self {
            FlushPolicy::EveryMillis(ms) if ms > 0 => Some(Duration::from_millis(ms)),
            _ => None,
        }
    }
}

/// Pending-write accounting and the kept background error of one read-write mapping.
#[derive(Debug)]
pub(crate) struct FlushState {
    policy: FlushPolicy,
    /// Bytes written since the last successful flush.
    pending: AtomicU64,
    /// Writes since the last successful flush.
    writes: AtomicU64,
    /// The first error the background flusher met, until a `flush` call returns it.
    error: Mutex<Option<String>>,
}

/// The counters as a flush found them; a successful flush debits exactly this much.
#[derive(Clone, Copy)]
pub(crate) struct Snapshot {
    bytes: u64,
    writes: u64,
}

impl Snapshot {
    /// What a flush of `bytes` bytes can have written back: at most that many pending
    /// bytes, and no whole writes.
    pub(crate) fn capped(self, bytes: u64) -> Snapshot {
        Snapshot {
            bytes: self.bytes.min(bytes),
            writes: 0,
        }
    }
}

impl FlushState {
    pub(crate) fn new(policy: FlushPolicy) -> Self {
        Self {
            policy,
            pending: AtomicU64::new(0),
            writes: AtomicU64::new(0),
            error: Mutex::new(None),
        }
    }

    pub(crate) fn policy(&self) -> FlushPolicy {
        self.policy
    }

    pub(crate) fn pending(&self) -> u64 {
        self.pending.load(Relaxed)
    }

    /// Counts one write of `bytes` bytes.
    ///
    /// The caller holds the mapping's write lock, which keeps every other counter update
    /// out (they all run under the read lock), so a load and a store suffice: no atomic
    /// read-modify-write on the write path.
    #[inline]
    pub(crate) fn record_exclusive(&self, bytes: usize) {
        self.pending
            .store(self.pending.load(Relaxed) + bytes as u64, Relaxed);
        self.writes.store(self.writes.load(Relaxed) + 1, Relaxed);
    }

    /// Counts one write of `bytes` bytes by a caller that holds only the read lock.
    #[cfg_attr(not(feature = "atomic"), allow(dead_code))]
    pub(crate) fn record_shared(&self, bytes: usize) {
        self.pending.fetch_add(bytes as u64, Relaxed);
        self.writes.fetch_add(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            bytes: self.pending.load(Relaxed),
            writes: self.writes.load(Relaxed),
        }
    }

    /// Takes what a successful flush wrote back off the counters, never below zero.
    pub(crate) fn debit(&self, done: Snapshot) {
        let sub = |by: u64| move |v: u64| Some(v.saturating_sub(by));
        // The closures always return `Some`, so these updates cannot fail.
        let _ = self.pending.fetch_update(Relaxed, Relaxed, sub(done.bytes));
        let _ = self.writes.fetch_update(Relaxed, Relaxed, sub(done.writes));
    }

    /// Whether the policy asks for a flush now, after a write.
    #[inline]
    pub(crate) fn due(&self) -> bool {
        match self.policy {
            FlushPolicy::Always => true,
            FlushPolicy::EveryBytes(n) if n > 0 => self.pending.load(Relaxed) >= n as u64,
            FlushPolicy::EveryWrites(n) if n > 0 => self.writes.load(Relaxed) >= n as u64,
            _ => false,
        }
    }

    /// Keeps a background flush error until the next `flush` call; the first one wins.
    pub(crate) fn keep_error(&self, err: &io::Error) {
        self.error.lock().get_or_insert_with(|| err.to_string());
    }

    /// The kept background flush error, if any; it is returned once.
    pub(crate) fn take_error(&self) -> Option<MmapIoError> {
        self.error.lock().take().map(MmapIoError::FlushFailed)
    }
}

/// The background thread of [`FlushPolicy::EveryMillis`]; dropping this stops and joins it.
pub(crate) struct Flusher {
    signal: Arc<Signal>,
    thread: Option<JoinHandle<()>>,
}

struct Signal {
    stop: Mutex<bool>,
    wake: Condvar,
}

impl Flusher {
    /// Starts a thread that flushes `inner` every `interval` while it has pending writes.
    pub(crate) fn start(inner: Arc<Inner>, interval: Duration) -> io::Result<Self> {
        let signal = Arc::new(Signal {
            stop: Mutex::new(false),
            wake: Condvar::new(),
        });
        let thread_signal = Arc::clone(&signal);
        let thread = std::thread::Builder::new()
            .name("mmap-io-flusher".into())
            .spawn(move || run(&inner, &thread_signal, interval))?;
        Ok(Self {
            signal,
            thread: Some(thread),
        })
    }
}

fn run(inner: &Inner, signal: &Signal, interval: Duration) {
    let mut stop = signal.stop.lock();
    while !*stop {
        signal.wake.wait_for(&mut stop, interval);
        if *stop {
            break;
        }
        if inner.flush.pending() > 0 {
            parking_lot::MutexGuard::unlocked(&mut stop, || {
                if let Err(err) = inner.sync() {
                    inner.flush.keep_error(&err);
                }
            });
        }
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        *self.signal.stop.lock() = true;
        self.signal.wake.notify_all();
        if let Some(thread) = self.thread.take() {
            // The thread does not panic; if it somehow did, there is nothing left to stop.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_error_is_returned_once_and_the_first_one_wins() {
        let state = FlushState::new(FlushPolicy::EveryMillis(10));
        assert!(state.take_error().is_none());
        state.keep_error(&io::Error::from_raw_os_error(5)); // EIO
        state.keep_error(&io::Error::from_raw_os_error(28)); // ENOSPC
        let kept = state.take_error().expect("kept error");
        assert!(matches!(&kept, MmapIoError::FlushFailed(m) if m.contains("os error 5")));
        assert!(state.take_error().is_none(), "returned once");
    }

    #[test]
    fn debits_never_go_below_zero_and_keep_later_writes() {
        let state = FlushState::new(FlushPolicy::Manual);
        state.record_exclusive(10);
        let done = state.snapshot();
        state.record_exclusive(5); // written while the flush ran
        state.debit(done);
        assert_eq!(state.pending(), 5);
        state.debit(done);
        assert_eq!(state.pending(), 0);
    }
}
