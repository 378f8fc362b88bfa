//! Range operations on a guarded (writable) mapping, shared by
//! [`MemoryMappedFile`](crate::MemoryMappedFile) and [`AnonymousMmap`](crate::AnonymousMmap):
//! each takes the guard its kind of access needs, checks the range under it, and maps a
//! refusal of the lock to [`MmapIoError::InvalidMode`].

use crate::errors::{invalid_mode, MmapIoError, Result};
use crate::fault::Fault;
use crate::range;
use crate::slice::{MappedSlice, MappedSliceMut};
use crate::sync::{AtomicGuard, Conflict, MapLock, Width, WriteGuard, WOULD_BLOCK};
use std::ops::Range;

impl From<Conflict> for MmapIoError {
    #[cold]
    fn from(conflict: Conflict) -> Self {
        invalid_mode(conflict.0)
    }
}

/// The byte span `(offset, len)` asks for, saturated to [`range::SPAN_MAX`]: what a view
/// publishes before its bounds are checked under the guard. (No mapping reaches that far,
/// so a span cut there still covers every byte it asks for that exists.)
#[inline]
pub(crate) fn span(offset: u64, len: u64) -> (usize, usize) {
    let max = range::SPAN_MAX as u64;
    let start = offset.min(max) as usize;
    let end = offset.saturating_add(len).min(max) as usize;
    (start, end)
}

impl MapLock {
    /// A zero-copy view of `len` bytes at `offset`.
    #[inline(always)]
    pub(crate) fn slice(&self, offset: u64, len: u64) -> Result<MappedSlice<'_>> {
        if len == 0 {
            return Ok(MappedSlice::borrowed(&[]));
        }
        let (start, end) = span(offset, len);
        let guard = self
            .read(start, end)
            .map_err(|c| refused(self, c, offset, len))?;
        let r = range::checked(offset, len, guard.len())?;
        Ok(MappedSlice::guarded(guard, r))
    }

    /// Like [`slice`](Self::slice), but `None` where it would wait.
    pub(crate) fn try_slice(&self, offset: u64, len: u64) -> Result<Option<MappedSlice<'_>>> {
        if len == 0 {
            return Ok(Some(MappedSlice::borrowed(&[])));
        }
        let (start, end) = span(offset, len);
        let guard = match self.try_read(start, end) {
            Ok(guard) => guard,
            Err(WOULD_BLOCK) => return Ok(None),
            Err(c) => return Err(refused(self, c, offset, len)),
        };
        let r = range::checked(offset, len, guard.len())?;
        Ok(Some(MappedSlice::guarded(guard, r)))
    }

    /// A writable view of `len` bytes at `offset`.
    pub(crate) fn slice_mut(&self, offset: u64, len: u64) -> Result<MappedSliceMut<'_>> {
        let (guard, r) = self.write_range(offset, len)?;
        Ok(MappedSliceMut::guarded(guard, r))
    }

    /// Exclusive access to write `len` bytes at `offset`: the guard and the checked range.
    #[inline(always)]
    pub(crate) fn write_range(
        &self,
        offset: u64,
        len: u64,
    ) -> Result<(WriteGuard<'_>, Range<usize>)> {
        self.prefetch(offset, len);
        let (start, end) = span(offset, len);
        checked_write(self, self.write(start, end), offset, len)
    }

    /// Like [`write_range`](Self::write_range), but `None` where it would wait.
    pub(crate) fn try_write_range(
        &self,
        offset: u64,
        len: u64,
    ) -> Result<Option<(WriteGuard<'_>, Range<usize>)>> {
        let (start, end) = span(offset, len);
        match self.try_write(start, end) {
            Err(WOULD_BLOCK) => Ok(None),
            result => checked_write(self, result, offset, len).map(Some),
        }
    }

    /// Copies `data` to `offset`.
    pub(crate) fn copy_in(&self, offset: u64, data: &[u8]) -> Result<()> {
        let (guard, r) = self.write_range(offset, data.len() as u64)?;
        // SAFETY: `r` comes from `write_range` on this guard, for `data.len()` bytes.
        unsafe { guard.copy_to(r, data) }
    }

    /// Like [`copy_in`](Self::copy_in), but `false`, with nothing written, where it would
    /// wait.
    pub(crate) fn try_copy_in(&self, offset: u64, data: &[u8]) -> Result<bool> {
        match self.try_write_range(offset, data.len() as u64)? {
            Some((guard, r)) => {
                // SAFETY: as in `copy_in`.
                unsafe { guard.copy_to(r, data) }?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Copies `buf.len()` bytes at `offset` into `buf`; bytes under a live atomic view are
    /// loaded atomically, at its width. Never refused for atomic views.
    pub(crate) fn copy_out(&self, offset: u64, buf: &mut [u8]) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        let (start, end) = span(offset, buf.len() as u64);
        let (guard, spans) = self.read_copy(start, end)?;
        let r = range::checked(offset, buf.len() as u64, guard.len())?;
        // SAFETY: `r` is in bounds of the mapping `guard` keeps in place and within the
        // range it published; `spans` lists every atomic view that overlaps it.
        unsafe { copy_guarded(guard.base(), r.clone(), buf, &spans) }
            .map_err(|f| f.into_error(r.start as u64))
    }

    /// Copies up to `buf.len()` bytes at `offset` into `buf`, cut short at the end of the
    /// mapping, or where the file was cut under it after at least one byte; returns how
    /// many were copied (0 at or past the end).
    pub(crate) fn copy_upto(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let (start, end) = span(offset, buf.len() as u64);
        let (guard, spans) = self.read_copy(start, end)?;
        let len = guard.len();
        let r = start.min(len)..end.min(len);
        let n = r.len();
        // SAFETY: as in `copy_out`.
        let copied = unsafe { copy_guarded(guard.base(), r.clone(), &mut buf[..n], &spans) };
        short_read(copied, n, r.start as u64)
    }

    #[cfg_attr(not(feature = "atomic"), allow(dead_code))]
    /// Publishes an atomic view of `count` values of `width` at `offset` (aligned), and
    /// returns it with the address of its first value.
    #[inline]
    pub(crate) fn atomic_span(
        &self,
        offset: u64,
        bytes: u64,
        width: Width,
    ) -> Result<(AtomicGuard<'_>, usize)> {
        let (start, end) = span(offset, bytes);
        // The view's first use is a read-modify-write, which waits for its cache line.
        self.prefetch(offset, bytes);
        let (guard, len) = self
            .atomic(start, end, width)
            .map_err(|c| refused(self, c, offset, bytes))?;
        let r = range::checked(offset, bytes, len)?;
        Ok((guard, r.start))
    }
}

impl WriteGuard<'_> {
    /// Copies `data` into the range `r` of the mapping.
    ///
    /// # Errors
    ///
    /// [`MmapIoError::Io`] if the file was cut under the mapping (or its disk failed)
    /// where the copy reached: the bytes before that point are written.
    ///
    /// # Safety
    ///
    /// `r` was returned for `data.len()` bytes by [`MapLock::write_range`] (or its `try_`
    /// form) together with this guard: in bounds, and under no atomic view.
    #[inline(always)]
    pub(crate) unsafe fn copy_to(&self, r: Range<usize>, data: &[u8]) -> Result<()> {
        // SAFETY: `r` is in bounds of the mapping this guard holds exclusively, and no
        // atomic view overlaps it (the caller's contract); `data` cannot borrow those bytes
        // while the guard is held.
        unsafe { crate::fault::copy(self.base().add(r.start), data.as_ptr(), r.len()) }
            .map_err(|fault| fault.into_error(r.start as u64))
    }
}

/// What a copy of up to `n` bytes at `offset` returns: `n`; or, where a fault stopped it,
/// the bytes copied before the fault as a short read (the next read meets the fault), or
/// the fault's error if there were none.
pub(crate) fn short_read(
    copied: std::result::Result<(), Fault>,
    n: usize,
    offset: u64,
) -> Result<usize> {
    match copied {
        Ok(()) => Ok(n),
        Err(f) if f.done > 0 => Ok(f.done),
        Err(f) => Err(f.into_error(offset)),
    }
}

/// Checks `len` bytes at `offset` against the mapping the guard holds.
#[inline(always)]
fn checked_write<'a>(
    lock: &MapLock,
    guard: std::result::Result<WriteGuard<'a>, Conflict>,
    offset: u64,
    len: u64,
) -> Result<(WriteGuard<'a>, Range<usize>)> {
    match guard {
        Ok(guard) => {
            let r = range::checked(offset, len, guard.len())?;
            Ok((guard, r))
        }
        Err(conflict) => Err(refused(lock, conflict, offset, len)),
    }
}

/// The error for a refused request of `len` bytes at `offset`: out of bounds if they are
/// (bounds are checked before conflicts), else the conflict.
#[cold]
#[inline(never)]
pub(crate) fn refused(lock: &MapLock, conflict: Conflict, offset: u64, len: u64) -> MmapIoError {
    match range::checked(offset, len, lock.last_len()) {
        Err(e) => e,
        Ok(_) => conflict.into(),
    }
}

/// Copies `r` of the mapping at `base` into `dst`, loading the bytes of `atomics` spans
/// with atomic loads of their width (a plain read of them would race their stores).
///
/// # Errors
///
/// The [`Fault`] that stopped it if the file was cut under the mapping (or its disk
/// failed), its count from `r.start`: `dst` holds the bytes before it.
///
/// # Safety
///
/// `r` is in bounds of a live mapping at `base` that no writer touches meanwhile, and every
/// atomic view that overlaps `r` is in `atomics`.
pub(crate) unsafe fn copy_guarded(
    base: *const u8,
    r: Range<usize>,
    dst: &mut [u8],
    atomics: &[(usize, usize, Width)],
) -> std::result::Result<(), Fault> {
    // A fault in a part of the copy that starts at `at`, counted from `r.start`.
    let fault = |at: usize| move |f: Fault| f.after(at - r.start);
    let plain = |from: usize, to: usize, dst: &mut [u8]| {
        if from >= to {
            return Ok(());
        }
        // SAFETY: `from..to` lies in `r`, outside every atomic view (the caller's
        // contract), so nothing writes it while we read it.
        unsafe { crate::fault::copy_out(&mut dst[from - r.start..to - r.start], base.add(from)) }
            .map_err(fault(from))
    };
    if atomics.is_empty() {
        return plain(r.start, r.end, dst);
    }
    let mut spans: Vec<_> = atomics.to_vec();
    spans.sort_unstable_by_key(|s| s.0);
    let mut at = r.start;
    for (s, e, width) in spans {
        // Spans of one width may overlap each other: never go back over copied bytes.
        let (s, e) = (s.max(r.start).max(at), e.min(r.end));
        if s >= e {
            continue;
        }
        plain(at, s, dst)?;
        let size = match width {
            Width::U32 => 4,
            Width::U64 => 8,
        };
        // Words are aligned by address: a window of a file may start anywhere in a word,
        // and the first word may begin before it (in the page the mapping starts on).
        let at_addr = |i: usize| base as usize + i;
        let mut word = at_addr(s) - at_addr(s) % size;
        while word < at_addr(e) {
            // The word lies in a live atomic view's span, so it is mapped and aligned for
            // its width (views are aligned in the file, and mappings start on a page of it).
            let mut value = [0u8; 8];
            let first = word.max(at_addr(s)) - base as usize;
            let ptr = base.wrapping_add(word.wrapping_sub(base as usize));
            match width {
                Width::U32 => {
                    // SAFETY: as above, for a 4-byte value.
                    let v = unsafe { crate::fault::load_u32(ptr as *const u32) };
                    value[..4].copy_from_slice(&v.map_err(fault(first))?.to_ne_bytes());
                }
                Width::U64 => {
                    // SAFETY: as above, for an 8-byte value.
                    let v = unsafe { crate::fault::load_u64(ptr as *const u64) };
                    value = v.map_err(fault(first))?.to_ne_bytes();
                }
            }
            let (from, to) = (first, (word + size - base as usize).min(e));
            let skip = at_addr(from) - word;
            dst[from - r.start..to - r.start].copy_from_slice(&value[skip..skip + (to - from)]);
            word += size;
        }
        at = e;
    }
    plain(at, r.end, dst)
}
