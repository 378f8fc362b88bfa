//! The platform facade: every system call the crate makes that memmap2 does not make for it.
//!
//! One back end per family, chosen here and nowhere else: `linux.rs` (Linux and Android),
//! `unix.rs` (macOS and the BSDs; Linux shares the parts that are the same),
//! `windows.rs`, and `other.rs`, whose calls return
//! [`std::io::ErrorKind::Unsupported`] where they have no portable meaning.

mod fallback;
#[cfg(any(target_os = "linux", target_os = "android"))]
mod linux;
#[cfg(not(any(unix, windows)))]
mod other;
mod region;
#[cfg(unix)]
mod reserve;
#[cfg(unix)]
mod unix;
#[cfg(windows)]
mod windows;

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use linux::*;
#[cfg(not(any(unix, windows)))]
pub(crate) use other::*;
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
pub(crate) use unix::*;
#[cfg(windows)]
pub(crate) use windows::*;

pub(crate) use region::{Growth, Region};
#[cfg(unix)]
pub(crate) use reserve::Reservation;

/// The directory `path` names a file in (`.` for a bare file name).
pub(crate) fn directory_of(path: &std::path::Path) -> &std::path::Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    }
}

/// Access-pattern hints, as `madvise` takes them.
#[allow(dead_code)] // which hints are used depends on the enabled features
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Advice {
    Normal,
    Random,
    Sequential,
    WillNeed,
    /// Destructive on private mappings: see [`advise`].
    DontNeed,
    HugePage,
}

/// Widens `offset..offset + len` of a mapping starting at `base` to whole pages.
///
/// Returns the page-aligned start address and the widened length.
#[cfg(unix)]
fn page_span(base: *const u8, offset: usize, len: usize) -> (*mut u8, usize) {
    let start = base as usize + offset;
    let aligned = start - start % page_size();
    (aligned as *mut u8, len + (start - aligned))
}
