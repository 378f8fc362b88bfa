//! When dirty pages are written back: [`FlushPolicy`], and the background flusher behind
//! [`FlushPolicy::EveryMillis`].

mod flusher;
mod state;

pub(crate) use flusher::Flusher;
#[cfg(feature = "atomic")]
pub(crate) use state::LocalCounters;
pub(crate) use state::{Caller, FlushState};

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
    /// stops and is joined when the last handle to the mapping is dropped (after a last
    /// flush of what is still pending). A live atomic view keeps the mapping pending, so
    /// stores through it are written back every period too. An error the thread meets is
    /// returned by the next [`flush`](crate::MemoryMappedFile::flush) or
    /// [`flush_range`](crate::MemoryMappedFile::flush_range); one it meets in its last
    /// flush, after the last handle is gone, can be reported to no one: call `flush`
    /// before dropping the last handle to see every error. If a writable view of the
    /// mapping was leaked (`std::mem::forget`), the thread could never flush again: it is
    /// then left behind, with the mapping, instead of joined.
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
