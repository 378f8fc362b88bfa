//! Write accounting and the one place every sync of a mapping goes through.

use super::FlushPolicy;
#[cfg(mmap_io_loom)]
use loom_mutex::Mutex;
#[cfg(not(mmap_io_loom))]
use parking_lot::Mutex;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Pending-write accounting and the syncs of one read-write mapping.
///
/// The counters only grow: `pending` is what was written minus what a successful flush
/// covered. Writers count in their thread's record (plain loads and stores: no
/// read-modify-write on a write path), or with read-modify-writes on `shared` where they
/// cannot; flushes only ever raise the `flushed` marks, so no update is lost between them.
#[derive(Debug)]
pub(crate) struct FlushState {
    policy: FlushPolicy,
    /// Counted with read-modify-writes, where a writer cannot count in its record.
    shared: Counters,
    /// Names this state in the records' write counts (see `crate::sync::count`).
    id: u64,
    flushed: Counters,
    syncs: Syncs,
}

#[derive(Debug, Default)]
struct Counters {
    bytes: AtomicU64,
    writes: AtomicU64,
}

/// The counters an atomic view counts its bytes on when it drops (on whatever thread).
#[cfg_attr(not(feature = "atomic"), allow(dead_code))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalCounters<'a> {
    state: &'a FlushState,
}

#[cfg_attr(not(feature = "atomic"), allow(dead_code))]
impl LocalCounters<'_> {
    /// Counts one write of `bytes` bytes, as [`FlushState::record_exclusive`] does. Safe to
    /// call while the thread's thread-locals are being destroyed.
    #[inline]
    pub(crate) fn record(&self, bytes: usize) {
        self.state.record_exclusive(bytes);
    }
}

#[cfg(not(mmap_io_loom))]
impl Drop for FlushState {
    fn drop(&mut self) {
        // Nothing counts for this mapping any more: the records' slots are free again.
        crate::sync::forget(self.id);
    }
}

/// What was written when a flush began; a successful flush covers exactly this much.
#[derive(Clone, Copy)]
pub(crate) struct Snapshot {
    bytes: u64,
    writes: u64,
}

impl FlushState {
    pub(crate) fn new(policy: FlushPolicy) -> Self {
        Self {
            policy,
            shared: Counters::default(),
            id: {
                static NEXT: AtomicU64 = AtomicU64::new(1);
                NEXT.fetch_add(1, Relaxed)
            },
            flushed: Counters::default(),
            syncs: Syncs::default(),
        }
    }

    pub(crate) fn policy(&self) -> FlushPolicy {
        self.policy
    }

    /// Bytes written and not yet covered by a successful flush.
    pub(crate) fn pending(&self) -> u64 {
        self.snapshot()
            .bytes
            .saturating_sub(self.flushed.bytes.load(Relaxed))
    }

    fn pending_writes(&self) -> u64 {
        self.snapshot()
            .writes
            .saturating_sub(self.flushed.writes.load(Relaxed))
    }

    /// Counts one write of `bytes` bytes by a caller that holds a write guard: in the
    /// calling thread's record with plain loads and stores where it can (writers of other
    /// bytes count at the same time), else with read-modify-writes.
    #[inline]
    pub(crate) fn record_exclusive(&self, bytes: usize) {
        #[cfg(not(mmap_io_loom))]
        if crate::sync::count(self.id, bytes as u64) {
            return;
        }
        self.record_shared(bytes);
    }

    /// Counts one write of `bytes` bytes by a caller that holds no write guard.
    pub(crate) fn record_shared(&self, bytes: usize) {
        self.shared.bytes.fetch_add(bytes as u64, Relaxed);
        self.shared.writes.fetch_add(1, Relaxed);
    }

    /// The counters for a writer (an atomic view) that counts when it ends, perhaps on
    /// another thread.
    #[cfg_attr(not(feature = "atomic"), allow(dead_code))]
    #[inline]
    pub(crate) fn local(&self) -> LocalCounters<'_> {
        LocalCounters { state: self }
    }

    /// What has been written so far; take it before a sync starts.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let shared = (
            self.shared.bytes.load(Relaxed),
            self.shared.writes.load(Relaxed),
        );
        #[cfg(not(mmap_io_loom))]
        let shared = {
            let (bytes, writes) = crate::sync::counted(self.id);
            (shared.0.wrapping_add(bytes), shared.1.wrapping_add(writes))
        };
        Snapshot {
            bytes: shared.0,
            writes: shared.1,
        }
    }

    /// Marks everything in `done` as flushed (a flush of the whole mapping succeeded).
    pub(crate) fn debit(&self, done: Snapshot) {
        self.flushed.bytes.fetch_max(done.bytes, Relaxed);
        self.flushed.writes.fetch_max(done.writes, Relaxed);
    }

    /// Whether the policy asks for a flush now, after a write.
    #[inline]
    pub(crate) fn due(&self) -> bool {
        match self.policy {
            FlushPolicy::Always => true,
            FlushPolicy::EveryBytes(n) if n > 0 => self.pending() >= n as u64,
            FlushPolicy::EveryWrites(n) if n > 0 => self.pending_writes() >= n as u64,
            _ => false,
        }
    }

    /// Runs `sync`, the write-back of this mapping's file, after any other in progress,
    /// and returns the error to report to `caller`, if any. See [`Syncs`]. With `wait`
    /// false, a sync that would wait for another in progress is skipped: `Ok(false)`, or an
    /// error owed to `caller`.
    pub(crate) fn sync(
        &self,
        caller: Caller,
        wait: bool,
        sync: impl FnOnce() -> io::Result<()>,
    ) -> Result<bool, String> {
        self.syncs.run(caller, wait, sync)
    }
}

/// Who asks for a sync, which decides the errors it is told of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Caller {
    /// `flush` or `flush_range`: told of errors its sync met, and of one owed since an
    /// earlier sync met it (which it takes: it is owed no more).
    Flush,
    /// The policy flush of a write: told of the same errors as `Flush`, but takes none, so
    /// the next `flush` is still told of them.
    Policy,
    /// The background flusher: told of nothing (its errors are owed to the next `Flush`).
    Background,
}

/// Every write-back of one file, one at a time, and the errors they met.
///
/// The kernel reports a write-back error of a file once per open file description, to
/// whichever sync asks first, and marks the failed pages clean. All our syncs of a file go
/// through one description, so an error one of them meets must reach the others' callers:
/// it is returned to every flush call in progress when it is met, and to the next flush
/// call that starts after it (the one that would have met it had the first not). An error
/// the background flusher or a write's policy flush meets is therefore returned by the next
/// flush; a policy flush also returns every error met before it that a flush is still owed.
#[derive(Debug, Default)]
struct Syncs {
    /// Held while a sync runs.
    running: Mutex<()>,
    errors: Mutex<Errors>,
}

#[derive(Debug, Default)]
struct Errors {
    /// Errors met so far.
    met: u64,
    last: Option<String>,
    /// The next flush call that starts is owed `last`.
    owed: bool,
}

impl Syncs {
    fn run(
        &self,
        caller: Caller,
        wait: bool,
        sync: impl FnOnce() -> io::Result<()>,
    ) -> Result<bool, String> {
        let (seen, owed) = {
            let mut errors = self.errors.lock();
            let owed = match caller {
                Caller::Background => None,
                _ if !errors.owed => None,
                Caller::Flush => {
                    errors.owed = false;
                    errors.last.clone()
                }
                Caller::Policy => errors.last.clone(),
            };
            (errors.met, owed)
        };
        let one_at_a_time = match wait {
            true => self.running.lock(),
            false => match self.running.try_lock() {
                Some(turn) => turn,
                None => return owed.map_or(Ok(false), Err),
            },
        };
        let result = sync();
        // The error is recorded before the next sync may run: a caller waiting for its turn
        // reads the record only after its own sync, and must find this error there.
        let mut errors = self.errors.lock();
        drop(one_at_a_time);
        if let Err(e) = result {
            errors.met += 1;
            errors.last = Some(e.to_string());
            errors.owed = true;
        }
        match owed {
            Some(owed) => Err(owed),
            None if caller != Caller::Background && errors.met > seen => {
                Err(errors.last.clone().unwrap_or_default())
            }
            None => Ok(true),
        }
    }
}

/// `loom`'s mutex with `parking_lot`'s signature, so that [`Syncs`] is model-checked as it is
/// compiled.
#[cfg(mmap_io_loom)]
mod loom_mutex {
    #[derive(Debug, Default)]
    pub(super) struct Mutex<T>(loom::sync::Mutex<T>);

    impl<T> Mutex<T> {
        pub(super) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        }

        pub(super) fn try_lock(&self) -> Option<loom::sync::MutexGuard<'_, T>> {
            self.0.try_lock().ok()
        }
    }
}

/// Model tests of [`Syncs`], run by `loom` over every interleaving:
/// `RUSTFLAGS="--cfg mmap_io_loom" cargo test --release --lib flush::state::model`.
#[cfg(all(test, mmap_io_loom))]
mod model {
    use super::{Caller, Syncs};
    use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use loom::sync::Arc;
    use std::io;

    /// A flush (or a write's policy flush) whose sync runs after a failed one is told of the
    /// error, however the two calls interleave; one whose sync ran first is told of nothing.
    #[test]
    fn a_sync_after_a_failed_one_reports_its_error() {
        for caller in [Caller::Flush, Caller::Policy] {
            a_sync_after_a_failed_one_reports_its_error_to(caller);
        }
    }

    fn a_sync_after_a_failed_one_reports_its_error_to(caller: Caller) {
        loom::model(move || {
            let syncs = Arc::new(Syncs::default());
            let failed = Arc::new(AtomicBool::new(false));
            let background = {
                let (syncs, failed) = (syncs.clone(), failed.clone());
                loom::thread::spawn(move || {
                    syncs.run(Caller::Background, true, || {
                        failed.store(true, SeqCst);
                        Err(io::Error::from_raw_os_error(5))
                    })
                })
            };
            let mut after_the_failure = false;
            let flush = syncs.run(caller, true, || {
                after_the_failure = failed.load(SeqCst);
                Ok(())
            });
            assert_eq!(flush.is_err(), after_the_failure);
            assert!(background.join().unwrap().is_ok(), "no caller to tell");
        });
    }
}

#[cfg(all(test, not(mmap_io_loom)))]
mod tests {
    use super::*;

    fn eio() -> io::Result<()> {
        Err(io::Error::from_raw_os_error(5))
    }

    #[test]
    fn a_background_error_reaches_the_next_caller_once() {
        let state = FlushState::new(FlushPolicy::EveryMillis(10));
        assert!(
            state.sync(Caller::Background, true, eio).is_ok(),
            "no caller to tell"
        );
        let first = state
            .sync(Caller::Flush, true, || Ok(()))
            .expect_err("owed to the next caller");
        assert!(first.contains("os error 5"));
        assert!(
            state.sync(Caller::Flush, true, || Ok(())).is_ok(),
            "reported once"
        );
    }

    #[test]
    fn a_callers_error_reaches_it_and_the_next_caller() {
        let state = FlushState::new(FlushPolicy::Manual);
        assert!(state.sync(Caller::Flush, true, eio).is_err());
        assert!(state.sync(Caller::Flush, true, || Ok(())).is_err());
        assert!(state.sync(Caller::Flush, true, || Ok(())).is_ok());
    }

    #[test]
    fn a_policy_flush_is_told_of_an_owed_error_and_leaves_it_owed() {
        let state = FlushState::new(FlushPolicy::EveryMillis(10));
        assert!(state.sync(Caller::Background, true, eio).is_ok());
        assert!(state.sync(Caller::Policy, true, || Ok(())).is_err());
        assert!(
            state.sync(Caller::Flush, true, || Ok(())).is_err(),
            "still owed to the next flush"
        );
        assert!(
            state.sync(Caller::Flush, true, || Ok(())).is_ok(),
            "reported once"
        );
    }

    #[test]
    fn a_policy_flushs_own_error_reaches_it_and_the_next_flush() {
        let state = FlushState::new(FlushPolicy::Always);
        assert!(state.sync(Caller::Policy, true, eio).is_err());
        assert!(
            state.sync(Caller::Policy, true, || Ok(())).is_err(),
            "still owed"
        );
        assert!(state.sync(Caller::Flush, true, || Ok(())).is_err());
        assert!(state.sync(Caller::Flush, true, || Ok(())).is_ok());
    }

    #[test]
    fn a_caller_in_progress_gets_an_error_another_sync_met() {
        let state = FlushState::new(FlushPolicy::Manual);
        let (started, wait) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            // The background flusher's sync fails while the caller waits for its turn.
            s.spawn(|| {
                state.sync(Caller::Background, true, || {
                    started.send(()).unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(100));
                    eio()
                })
            });
            wait.recv().unwrap();
            let caller = state.sync(Caller::Flush, true, || Ok(()));
            assert!(
                caller.is_err(),
                "the error was met while this call was in progress"
            );
        });
    }

    #[test]
    fn a_sync_that_may_not_wait_is_skipped_while_another_runs() {
        let state = &FlushState::new(FlushPolicy::Always);
        let (started, wait) = std::sync::mpsc::channel();
        let (finish, finished) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|s| {
            s.spawn(move || {
                state.sync(Caller::Flush, true, || {
                    started.send(()).unwrap();
                    // Bounded, so that a broken skip fails the test instead of hanging it.
                    let _ = finished.recv_timeout(std::time::Duration::from_secs(30));
                    eio()
                })
            });
            wait.recv().unwrap();
            let skipped = state.sync(Caller::Policy, false, || unreachable!("skipped"));
            assert_eq!(skipped, Ok(false));
            finish.send(()).unwrap();
        });
        assert!(
            state.sync(Caller::Policy, false, || Ok(())).is_err(),
            "the error met meanwhile is owed"
        );
        assert!(state.sync(Caller::Flush, true, || Ok(())).is_err());
        assert_eq!(state.sync(Caller::Policy, false, || Ok(())), Ok(true));
    }

    #[test]
    fn flushed_marks_only_cover_the_snapshot() {
        let state = FlushState::new(FlushPolicy::Manual);
        state.record_exclusive(10);
        let done = state.snapshot();
        state.record_exclusive(5); // written while the flush ran
        state.record_shared(8);
        state.debit(done);
        assert_eq!(state.pending(), 13);
        state.debit(done);
        assert_eq!(state.pending(), 13);
        state.debit(state.snapshot());
        assert_eq!(state.pending(), 0);
    }
}
