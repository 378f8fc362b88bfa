//! Copies in and out of a mapping that return an error, instead of killing the process, when
//! the file was cut under the mapping or its disk failed: the protocol is
//! `docs/FAULTS.md`.
//!
//! Protected where a routine exists (Linux on x86_64 and i686, Windows on x86_64); elsewhere
//! the same functions make plain copies, and a fault kills the process as before.

use std::io;

// The routine, the handler that recovers its faults, and what the rest of the crate calls
// (`platform::install`, `platform::cause`), or plain copies where there is no routine.
cfg_if::cfg_if! {
    if #[cfg(any(
        // Not x32, whose pointers are 32 bits wide.
        all(target_os = "linux", target_arch = "x86_64", target_pointer_width = "64"),
        all(windows, target_arch = "x86_64"),
        // The 8-byte load needs SSE2 (every i686 target has it); the libc crate describes
        // the signal context of glibc only.
        all(target_os = "linux", target_env = "gnu", target_arch = "x86", target_feature = "sse2"),
    ))] {
        #[cfg_attr(target_arch = "x86_64", path = "x86_64.rs")]
        #[cfg_attr(target_arch = "x86", path = "x86.rs")]
        mod arch;
        #[cfg_attr(target_os = "linux", path = "linux.rs")]
        #[cfg_attr(windows, path = "windows.rs")]
        mod handler;
        mod recovery;
        use recovery as platform;
        /// Whether copies are protected on this platform.
        #[cfg(test)]
        #[allow(dead_code)] // read by the Linux tests only
        const PROTECTED: bool = true;
    } else {
        #[path = "plain.rs"]
        mod arch;
        use arch as platform;
        /// Whether copies are protected on this platform.
        #[cfg(test)]
        #[allow(dead_code)] // read by the Linux tests only
        const PROTECTED: bool = false;
    }
}
use platform::cause as handler_cause;
pub(crate) use platform::install;

/// A copy stopped by a fault: how many bytes it copied first, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fault {
    /// Bytes copied (from the start) before the fault.
    pub(crate) done: usize,
    /// The platform's cause, as the handler recorded it (never 0).
    cause: usize,
}

impl Fault {
    /// The error for a fault in a copy that started at `offset` of the mapping.
    #[cold]
    pub(crate) fn error(self, offset: u64) -> io::Error {
        let at = offset.saturating_add(self.done as u64);
        match handler_cause(self.cause) {
            Cause::Cut => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "the mapped file has no page at offset {at} (cut under the mapping, or \
                     its storage could not provide the page); {} bytes copied",
                    self.done
                ),
            ),
            Cause::Io(os) => io::Error::new(
                os.kind(),
                format!("I/O error in the mapped file: the copy stopped at offset {at}: {os}"),
            ),
        }
    }

    /// This fault, met by the part of a copy that starts `before` bytes into it.
    pub(crate) fn after(self, before: usize) -> Fault {
        Fault {
            done: before + self.done,
            ..self
        }
    }

    /// This fault as the crate's error, for a copy that started at `offset`.
    #[cold]
    pub(crate) fn into_error(self, offset: u64) -> crate::MmapIoError {
        crate::MmapIoError::Io(self.error(offset))
    }
}

/// What a cause recorded by the handler means.
#[allow(dead_code)] // the plain platforms record no cause
pub(crate) enum Cause {
    /// The page lies past the file's end, or (on Linux, which reports both alike) the
    /// file system could not provide it: a read error, no space for a hole.
    Cut,
    /// The disk (or memory) failed to provide the page.
    Io(io::Error),
}

/// Copies `len` bytes from `src` to `dst` (either may lie in a file mapping); a fault
/// stops it, with the bytes copied before it in place.
///
/// # Safety
///
/// As [`std::ptr::copy_nonoverlapping`].
#[inline(always)]
pub(crate) unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> Result<(), Fault> {
    // SAFETY: the caller's contract.
    let (left, cause) = unsafe { arch::copy(dst, src, len) };
    if cause == 0 {
        Ok(())
    } else {
        Err(Fault {
            done: len - left.min(len),
            cause,
        })
    }
}

/// Copies the mapped bytes at `src` into `dst`.
///
/// # Safety
///
/// `src` is valid for reads of `dst.len()` bytes, which nothing writes meanwhile.
#[inline(always)]
pub(crate) unsafe fn copy_out(dst: &mut [u8], src: *const u8) -> Result<(), Fault> {
    // SAFETY: the caller's contract; `dst` is a distinct, writable slice.
    unsafe { copy(dst.as_mut_ptr(), src, dst.len()) }
}

/// One relaxed atomic load of the aligned `u64` at `src`.
///
/// # Safety
///
/// As `AtomicU64::from_ptr(src).load(Relaxed)`.
#[inline(always)]
pub(crate) unsafe fn load_u64(src: *const u64) -> Result<u64, Fault> {
    // SAFETY: the caller's contract.
    unsafe { arch::load64(src) }.map_err(|cause| Fault { done: 0, cause })
}

/// One relaxed atomic load of the aligned `u32` at `src`.
///
/// # Safety
///
/// As `AtomicU32::from_ptr(src).load(Relaxed)`.
#[inline(always)]
pub(crate) unsafe fn load_u32(src: *const u32) -> Result<u32, Fault> {
    // SAFETY: the caller's contract.
    unsafe { arch::load32(src) }.map_err(|cause| Fault { done: 0, cause })
}

/// Reads one byte of every page that `len` bytes at `ptr` cover, so each is faulted in;
/// stops at the first page that faults (`done` is its offset from `ptr`).
///
/// # Safety
///
/// The range lies in a live mapping, and nothing writes its bytes meanwhile.
pub(crate) unsafe fn touch_pages(ptr: *const u8, len: usize) -> Result<(), Fault> {
    let page = crate::utils::page_size();
    let base = ptr as usize;
    let mut at = 0;
    while at < len {
        let mut byte = 0u8;
        // SAFETY: `at < len`, so the byte lies in the caller's live range.
        unsafe { copy(&mut byte, ptr.add(at), 1) }.map_err(|f| f.after(at))?;
        // Next page boundary (mappings are page-aligned, so addresses and offsets agree).
        at = (base + at) / page * page + page - base;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
