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
