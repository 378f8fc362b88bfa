//! Plain copies and loads, where no guarded routine exists: a fault kills the process, as
//! for any access to the mapping.

use super::Cause;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// Installs nothing: there is no handler here.
pub(crate) fn install() {}

/// What a cause means (never called: plain copies report no fault).
pub(super) fn cause(_cause: usize) -> Cause {
    Cause::Cut
}

/// Copies `len` bytes from `src` to `dst`; never reports a fault.
///
/// # Safety
///
/// As `ptr::copy_nonoverlapping`.
#[inline(always)]
pub(super) unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> (usize, usize) {
    // SAFETY: the caller's contract.
    unsafe { std::ptr::copy_nonoverlapping(src, dst, len) };
    (0, 0)
}

/// One relaxed atomic load of the aligned `u64` at `src`.
///
/// # Safety
///
/// As `AtomicU64::from_ptr(src).load(Relaxed)`.
#[inline(always)]
pub(super) unsafe fn load64(src: *const u64) -> Result<u64, usize> {
    // SAFETY: the caller's contract.
    Ok(unsafe { AtomicU64::from_ptr(src as *mut u64) }.load(Relaxed))
}

/// One relaxed atomic load of the aligned `u32` at `src`.
///
/// # Safety
///
/// As `AtomicU32::from_ptr(src).load(Relaxed)`.
#[inline(always)]
pub(super) unsafe fn load32(src: *const u32) -> Result<u32, usize> {
    // SAFETY: the caller's contract.
    Ok(unsafe { AtomicU32::from_ptr(src as *mut u32) }.load(Relaxed))
}
