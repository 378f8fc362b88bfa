//! Small helpers for page sizes and range checks.
//!
//! Every function here is total: none panics or overflows, whatever its input.

use crate::errors::{out_of_bounds, Result};

/// The operating system's page size in bytes (4096 on most machines).
///
/// The value is read once and cached.
///
/// # Examples
///
/// ```
/// let ps = mmap_io::utils::page_size();
/// assert!(ps.is_power_of_two());
/// ```
#[inline]
pub fn page_size() -> usize {
    crate::os::page_size()
}

/// Rounds `value` up to the next multiple of `alignment`.
///
/// An `alignment` of 0 returns `value` unchanged; a result that would not fit in a `u64`
/// saturates to `u64::MAX`. `alignment` need not be a power of two.
///
/// # Examples
///
/// ```
/// use mmap_io::utils::align_up;
///
/// assert_eq!(align_up(1001, 1024), 1024);
/// assert_eq!(align_up(2048, 1024), 2048);
/// assert_eq!(align_up(u64::MAX, 4096), u64::MAX);
/// ```
#[must_use]
pub fn align_up(value: u64, alignment: u64) -> u64 {
    if alignment == 0 {
        return value;
    }
    match value % alignment {
        0 => value,
        rem => value.saturating_add(alignment - rem),
    }
}

/// Checks that `offset..offset + len` lies within `0..total`.
///
/// The sum is computed with overflow checks, so it is correct up to `total == u64::MAX`.
/// Unlike the mapping's own range methods, an `offset` past `total` is refused even when
/// `len` is 0, so a range that passes can always be used to index a buffer of `total` bytes.
///
/// # Errors
///
/// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) when the range does not fit.
///
/// # Examples
///
/// ```
/// use mmap_io::utils::ensure_in_bounds;
///
/// assert!(ensure_in_bounds(10, 20, 30).is_ok());
/// assert!(ensure_in_bounds(10, 21, 30).is_err());
/// assert!(ensure_in_bounds(u64::MAX, 1, u64::MAX).is_err());
/// ```
pub fn ensure_in_bounds(offset: u64, len: u64, total: u64) -> Result<()> {
    match offset.checked_add(len) {
        Some(end) if end <= total => Ok(()),
        _ => Err(out_of_bounds(offset, len, total)),
    }
}

/// Checks a range like [`ensure_in_bounds`] and returns it as `(start, end)` indices.
///
/// # Errors
///
/// [`MmapIoError::OutOfBounds`](crate::MmapIoError::OutOfBounds) when the range does not fit
/// in `total`, or its end does not fit in a `usize`.
///
/// # Examples
///
/// ```
/// use mmap_io::utils::slice_range;
///
/// let data = [0u8; 30];
/// let (start, end) = slice_range(10, 5, data.len() as u64)?;
/// assert_eq!(&data[start..end], &[0u8; 5]);
/// # Ok::<(), mmap_io::MmapIoError>(())
/// ```
pub fn slice_range(offset: u64, len: u64, total: u64) -> Result<(usize, usize)> {
    ensure_in_bounds(offset, len, total)?;
    // `offset <= end` after the check above, so fitting `end` means fitting both.
    match usize::try_from(offset + len) {
        Ok(end) => Ok((offset as usize, end)),
        Err(_) => Err(out_of_bounds(offset, len, total)),
    }
}
