//! Checked `(offset, len)` arithmetic shared by every range API.

use crate::errors::{out_of_bounds, zero_size, MmapIoError, Result};
use std::ops::Range;

/// Turns `(offset, len)` into an index range of a buffer of `total` bytes.
///
/// `offset + len` is computed with overflow checks. A zero-length request is accepted at
/// any offset and yields the empty range `0..0`, so callers never index past the end.
#[inline]
pub(crate) fn checked(offset: u64, len: u64, total: usize) -> Result<Range<usize>> {
    match offset.checked_add(len) {
        // `end <= total`, and `total` is a `usize`, so both casts are lossless.
        Some(end) if end <= total as u64 => Ok(offset as usize..end as usize),
        _ if len == 0 => Ok(0..0),
        _ => Err(out_of_bounds(offset, len, total as u64)),
    }
}

/// The file bytes that `start..end` of a mapping starting at byte `window` of its file
/// covers, as the file's lock names them (every entry is in file offsets). Exact wherever
/// they fit in a `usize`; past that (a window far into a huge file, on a 32-bit target)
/// every range keeps a last byte in common, `usize::MAX - 1`, so that such ranges conflict
/// with each other and with every range that reaches there: never fewer conflicts than
/// exact ones, sometimes more. Empty ranges stay empty.
#[inline(always)]
pub(crate) fn in_file(window: u64, start: usize, end: usize) -> (usize, usize) {
    if window == 0 {
        return (start, end);
    }
    #[cfg(target_pointer_width = "64")]
    {
        // Exact for every range in bounds (a file offset is below 2^63, a mapping below 2^47
        // bytes); a range asked for before its bounds check (up to `usize::MAX`) saturates,
        // so it stays as wide as asked and never wraps to an empty one.
        let window = window as usize;
        (window.saturating_add(start), window.saturating_add(end))
    }
    #[cfg(not(target_pointer_width = "64"))]
    {
        let cap = usize::MAX as u64 - 1;
        let (s, e) = (window + start as u64, window + end as u64);
        if e <= cap {
            (s as usize, e as usize)
        } else if start == end {
            let s = s.min(cap) as usize;
            (s, s)
        } else {
            (s.min(cap) as usize, usize::MAX)
        }
    }
}

/// The furthest byte a range asked of the lock reaches, from a mapping's start: past every
/// mapping (2^47 bytes at most), and small enough that a window's start (a file offset,
/// below 2^63) added to it does not overflow.
pub(crate) const SPAN_MAX: usize = if cfg!(target_pointer_width = "64") {
    1 << 62
} else {
    usize::MAX
};

/// [`in_file`] for a range within [`SPAN_MAX`] (checked against the mapping's length, or
/// cut by `guarded::span`): on 64-bit targets a plain addition, which the view paths can
/// afford where a saturating one with its branch cost the read-only one a seventh of its
/// instructions.
#[inline(always)]
pub(crate) fn in_file_checked(window: u64, start: usize, end: usize) -> (usize, usize) {
    #[cfg(target_pointer_width = "64")]
    {
        let window = window as usize;
        (window + start, window + end)
    }
    #[cfg(not(target_pointer_width = "64"))]
    {
        in_file(window, start, end)
    }
}

/// Whether bytes up to `end` of a mapping starting at byte `window` of its file have exact
/// names in the file's lock (see [`in_file`]): always where `usize` has 64 bits.
#[cfg_attr(not(feature = "atomic"), allow(dead_code))]
pub(crate) fn exact_in_file(window: u64, end: usize) -> bool {
    window.saturating_add(end as u64) < usize::MAX as u64
}

/// Makes the spans of atomic views a copy met (file offsets, as the lock names them)
/// relative to a mapping that starts at byte `window` of the file. A span may begin before
/// the window (a word the window starts inside): it then begins at 0.
pub(crate) fn spans_in_map(window: u64, spans: &mut [(usize, usize, crate::sync::Width)]) {
    if window == 0 {
        return;
    }
    for span in spans {
        span.0 = (span.0 as u64).saturating_sub(window) as usize;
        span.1 = (span.1 as u64).saturating_sub(window) as usize;
    }
}

/// The largest mapping a constructor or `resize` accepts: 128 TiB where `usize` has 64
/// bits (the user address space of common 64-bit kernels), 2 GiB where it has 32.
pub(crate) const MAX_SIZE: u64 = if cfg!(target_pointer_width = "64") {
    1 << 47
} else {
    1 << 31
};

/// Checks a requested mapping size for a constructor: non-zero, and small enough to map.
pub(crate) fn mapping_len(size: u64) -> Result<usize> {
    checked_size(size, "Size")
}

/// Checks the new size given to `resize`, as [`mapping_len`] does.
pub(crate) fn resized_len(size: u64) -> Result<usize> {
    checked_size(size, "New size")
}

fn checked_size(size: u64, what: &str) -> Result<usize> {
    if size == 0 {
        return Err(zero_size());
    }
    if size > MAX_SIZE {
        return Err(MmapIoError::ResizeFailed(format!(
            "{what} {size} exceeds maximum safe limit of {MAX_SIZE} bytes"
        )));
    }
    usize::try_from(size)
        .ok()
        .filter(|&n| n <= isize::MAX as usize)
        .ok_or_else(|| MmapIoError::ResizeFailed(format!("{what} {size} does not fit in memory")))
}
