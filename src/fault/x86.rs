//! The guarded copy and loads for 32-bit x86 (cdecl): see `docs/FAULTS.md`.
//!
//! Each routine returns a `u64` in `edx:eax`: the bytes left to copy in `eax` and the cause
//! of a fault in `edx` (0 if there was none). The handler writes both on a fault and resumes
//! at the fixup of the range, which restores what the routine saved and returns.

use super::recovery::Regs;

/// How many addresses [`ranges`] returns.
pub(super) const RANGES: usize = 8;

std::arch::global_asm!(
    ".text",
    // fn(dst, src, len) -> bytes left | cause << 32
    ".globl mmap_io_1_guarded_copy",
    ".hidden mmap_io_1_guarded_copy",
    ".type mmap_io_1_guarded_copy,@function",
    ".p2align 4",
    "mmap_io_1_guarded_copy:",
    "push esi",
    "push edi",
    "mov edi, [esp + 12]",
    "mov esi, [esp + 16]",
    "mov ecx, [esp + 20]",
    // The CPU keeps esi, edi and ecx (the count left) exact at a fault.
    ".Lmmap_io_rep_start:",
    "rep movsb",
    ".Lmmap_io_rep_end:",
    "xor eax, eax",
    "xor edx, edx",
    "pop edi",
    "pop esi",
    "ret",
    ".Lmmap_io_rep_fixup:",
    "cld",
    "pop edi",
    "pop esi",
    "ret",
    // fn(src, out) -> cause << 32: one aligned load of 8 (or 4) bytes from `src` (in ecx),
    // stored to `out`.
    ".globl mmap_io_1_guarded_load64",
    ".hidden mmap_io_1_guarded_load64",
    ".type mmap_io_1_guarded_load64,@function",
    ".p2align 4",
    "mmap_io_1_guarded_load64:",
    "mov ecx, [esp + 4]",
    "mov edx, [esp + 8]",
    ".Lmmap_io_load64_start:",
    "movq xmm0, qword ptr [ecx]",
    ".Lmmap_io_load64_end:",
    "movq qword ptr [edx], xmm0",
    "xor eax, eax",
    "xor edx, edx",
    "ret",
    ".globl mmap_io_1_guarded_load32",
    ".hidden mmap_io_1_guarded_load32",
    ".type mmap_io_1_guarded_load32,@function",
    ".p2align 4",
    "mmap_io_1_guarded_load32:",
    "mov ecx, [esp + 4]",
    "mov edx, [esp + 8]",
    ".Lmmap_io_load32_start:",
    "mov eax, [ecx]",
    ".Lmmap_io_load32_end:",
    "mov [edx], eax",
    "xor eax, eax",
    "xor edx, edx",
    "ret",
    ".Lmmap_io_load_fixup:",
    "ret",
    // fn() -> *const [i32; 8]: the ranges, as offsets from the table itself (no relocation).
    ".globl mmap_io_1_guarded_ranges",
    ".hidden mmap_io_1_guarded_ranges",
    ".type mmap_io_1_guarded_ranges,@function",
    ".p2align 4",
    "mmap_io_1_guarded_ranges:",
    // The call pushes the address right after it, which is the table's.
    "call 2f",
    "3:",
    ".long .Lmmap_io_rep_start - 3b, .Lmmap_io_rep_end - 3b, .Lmmap_io_rep_fixup - 3b",
    ".long .Lmmap_io_load64_start - 3b, .Lmmap_io_load64_end - 3b",
    ".long .Lmmap_io_load32_start - 3b, .Lmmap_io_load32_end - 3b, .Lmmap_io_load_fixup - 3b",
    "2:",
    "pop eax",
    "ret",
);

extern "C" {
    fn mmap_io_1_guarded_copy(dst: *mut u8, src: *const u8, len: usize) -> u64;
    fn mmap_io_1_guarded_load64(src: *const u64, out: *mut u64) -> u64;
    fn mmap_io_1_guarded_load32(src: *const u32, out: *mut u32) -> u64;
    fn mmap_io_1_guarded_ranges() -> *const [i32; RANGES];
}

/// Copies `len` bytes from `src` to `dst`; returns the bytes left and the cause of the fault
/// that stopped it, `(0, 0)` if none did.
///
/// # Safety
///
/// As `ptr::copy_nonoverlapping`, except that a fault in a file mapping is recovered.
#[inline(always)]
pub(super) unsafe fn copy(dst: *mut u8, src: *const u8, len: usize) -> (usize, usize) {
    // SAFETY: the caller's contract; the routine copies exactly `len` bytes forward and
    // touches no other memory.
    let pair = unsafe { mmap_io_1_guarded_copy(dst, src, len) };
    (pair as u32 as usize, (pair >> 32) as usize)
}

/// One atomic (relaxed) load of the aligned `u64` at `src`: `Ok(value)`, or `Err(cause)`.
///
/// # Safety
///
/// As `AtomicU64::from_ptr(src).load(Relaxed)`.
#[inline(always)]
pub(super) unsafe fn load64(src: *const u64) -> Result<u64, usize> {
    let mut value = 0;
    // SAFETY: the caller's contract: one aligned 8-byte SSE2 load, atomic on every x86 CPU
    // with SSE2 (which the target requires).
    let pair = unsafe { mmap_io_1_guarded_load64(src, &mut value) };
    match (pair >> 32) as usize {
        0 => Ok(value),
        cause => Err(cause),
    }
}

/// One atomic (relaxed) load of the aligned `u32` at `src`.
///
/// # Safety
///
/// As `AtomicU32::from_ptr(src).load(Relaxed)`.
#[inline(always)]
pub(super) unsafe fn load32(src: *const u32) -> Result<u32, usize> {
    let mut value = 0;
    // SAFETY: the caller's contract: one aligned 4-byte `mov`, atomic on x86.
    let pair = unsafe { mmap_io_1_guarded_load32(src, &mut value) };
    match (pair >> 32) as usize {
        0 => Ok(value),
        cause => Err(cause),
    }
}

/// The table of registered ranges: offsets from the table's own address (`rep` start, end
/// and fixup; `load64` and `load32` start and end; the loads' fixup).
pub(super) fn table() -> *const [i32; RANGES] {
    // SAFETY: the function only computes the table's address (eight `i32`s, unaligned, see the
    // assembly above), which lies in this binary's code for the life of the process.
    unsafe { mmap_io_1_guarded_ranges() }
}

/// The operands of the instruction at `regs.pc`, if it lies in a registered range: the
/// bytes left, the source and destination addresses, and where to resume.
pub(super) fn operands(r: &[usize; RANGES], regs: &Regs) -> Option<(usize, usize, usize, usize)> {
    let pc = regs.pc;
    if (r[0]..r[1]).contains(&pc) {
        Some((regs.cx, regs.si, regs.di, r[2]))
    } else if (r[3]..r[4]).contains(&pc) || (r[5]..r[6]).contains(&pc) {
        Some((8, regs.cx, regs.cx, r[7]))
    } else {
        None
    }
}
