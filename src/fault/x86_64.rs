//! The guarded copy and loads for x86_64, in the System V calling convention on every
//! platform (Windows included): see `docs/FAULTS.md`.
//!
//! Each routine returns a pair in `rax:rdx`: the value (bytes left to copy, or the word
//! loaded) and the cause of a fault (0 if there was none). The handler writes both on a
//! fault and resumes at `fixup`.

use super::recovery::Regs;

/// How many addresses [`ranges`] returns.
pub(super) const RANGES: usize = 7;

#[cfg(target_os = "linux")]
macro_rules! function {
    ($name:literal) => {
        concat!(
            ".globl ",
            $name,
            "\n.hidden ",
            $name,
            "\n.type ",
            $name,
            ",@function\n",
            ".p2align 4\n",
            $name,
            ":\n"
        )
    };
}
#[cfg(windows)]
macro_rules! function {
    ($name:literal) => {
        concat!(".globl ", $name, "\n.p2align 4\n", $name, ":\n")
    };
}

std::arch::global_asm!(
    ".text",
    // fn(dst: rdi, src: rsi, len: rdx) -> (bytes left, cause)
    function!("mmap_io_1_guarded_copy"),
    "cmp rdx, 64",
    "ja 5f",
    // A range that crosses a 4 KiB boundary (every x86 page size is a multiple of it) on
    // either side takes the large copy, which counts exactly what it copied.
    "lea rax, [rsi + rdx - 1]",
    "xor rax, rsi",
    "lea rcx, [rdi + rdx - 1]",
    "xor rcx, rdi",
    "or rax, rcx",
    "test rax, -4096",
    "jnz 5f",
    // The small copy, within one page on each side: every load, then every store; rdi, rsi
    // and rdx stay as passed. A fault here means the page is gone: nothing is copied (or
    // what was stored went to a page past the file's end).
    ".Lmmap_io_small_start:",
    "cmp rdx, 16",
    "jb 2f",
    "movups xmm0, [rsi]",
    "movups xmm1, [rsi + rdx - 16]",
    "cmp rdx, 32",
    "jbe 7f",
    "movups xmm2, [rsi + 16]",
    "movups xmm3, [rsi + rdx - 32]",
    "movups [rdi + 16], xmm2",
    "movups [rdi + rdx - 32], xmm3",
    "7:",
    "movups [rdi], xmm0",
    "movups [rdi + rdx - 16], xmm1",
    "jmp 9f",
    "2:",
    "cmp rdx, 8",
    "jb 3f",
    "mov rax, [rsi]",
    "mov rcx, [rsi + rdx - 8]",
    "mov [rdi], rax",
    "mov [rdi + rdx - 8], rcx",
    "jmp 9f",
    "3:",
    "cmp rdx, 4",
    "jb 4f",
    "mov eax, [rsi]",
    "mov ecx, [rsi + rdx - 4]",
    "mov [rdi], eax",
    "mov [rdi + rdx - 4], ecx",
    "jmp 9f",
    "4:",
    "test rdx, rdx",
    "jz 9f",
    "movzx eax, byte ptr [rsi]",
    "movzx ecx, byte ptr [rsi + rdx - 1]",
    "mov r8, rdx",
    "shr r8, 1",
    "movzx r9d, byte ptr [rsi + r8]",
    "mov [rdi], al",
    "mov [rdi + rdx - 1], cl",
    "mov [rdi + r8], r9b",
    ".Lmmap_io_small_end:",
    "9:",
    "xor eax, eax",
    "xor edx, edx",
    "ret",
    // The large copy: the CPU keeps rsi, rdi and rcx (the count left) exact at a fault.
    "5:",
    "mov rcx, rdx",
    ".Lmmap_io_rep_start:",
    "rep movsb",
    ".Lmmap_io_rep_end:",
    "xor eax, eax",
    "xor edx, edx",
    "ret",
    // Where a recovered fault resumes, rax and rdx set by the handler.
    ".Lmmap_io_fixup:",
    "cld",
    "ret",
    // fn(src: rdi) -> (word, cause): one aligned load of 8 (or 4) bytes.
    function!("mmap_io_1_guarded_load64"),
    ".Lmmap_io_load_start:",
    "mov rax, [rdi]",
    "xor edx, edx",
    "ret",
    function!("mmap_io_1_guarded_load32"),
    "mov eax, [rdi]",
    ".Lmmap_io_load_end:",
    "xor edx, edx",
    "ret",
    // fn() -> *const [i32; 7]: the ranges, as offsets from the table itself (no relocation).
    function!("mmap_io_1_guarded_ranges"),
    "lea rax, [rip + 6f]",
    "ret",
    ".p2align 2",
    "6:",
    ".long .Lmmap_io_small_start - 6b, .Lmmap_io_small_end - 6b",
    ".long .Lmmap_io_rep_start - 6b, .Lmmap_io_rep_end - 6b",
    ".long .Lmmap_io_load_start - 6b, .Lmmap_io_load_end - 6b",
    ".long .Lmmap_io_fixup - 6b",
);

#[repr(C)]
struct Pair {
    value: usize,
    cause: usize,
}

extern "sysv64" {
    fn mmap_io_1_guarded_copy(dst: *mut u8, src: *const u8, len: usize) -> Pair;
    fn mmap_io_1_guarded_load64(src: *const u64) -> Pair;
    fn mmap_io_1_guarded_load32(src: *const u32) -> Pair;
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
    let Pair { value, cause } = unsafe { mmap_io_1_guarded_copy(dst, src, len) };
    (value, cause)
}

/// One atomic (relaxed) load of the aligned `u64` at `src`: `Ok(value)`, or `Err(cause)`.
///
/// # Safety
///
/// As `AtomicU64::from_ptr(src).load(Relaxed)`.
#[inline(always)]
pub(super) unsafe fn load64(src: *const u64) -> Result<u64, usize> {
    // SAFETY: the caller's contract: one aligned 8-byte `mov`, atomic on x86_64.
    let Pair { value, cause } = unsafe { mmap_io_1_guarded_load64(src) };
    if cause == 0 {
        Ok(value as u64)
    } else {
        Err(cause)
    }
}

/// One atomic (relaxed) load of the aligned `u32` at `src`.
///
/// # Safety
///
/// As `AtomicU32::from_ptr(src).load(Relaxed)`.
#[inline(always)]
pub(super) unsafe fn load32(src: *const u32) -> Result<u32, usize> {
    // SAFETY: the caller's contract: one aligned 4-byte `mov`, atomic on x86_64.
    let Pair { value, cause } = unsafe { mmap_io_1_guarded_load32(src) };
    if cause == 0 {
        Ok(value as u32)
    } else {
        Err(cause)
    }
}

/// The table of registered ranges: offsets from the table's own address (`[small, rep, load]` start/end pairs and
/// the fixup).
pub(super) fn table() -> *const [i32; RANGES] {
    // SAFETY: the function only computes the table's address (seven `i32`s, see the
    // assembly above), which lies in this binary's code for the life of the process.
    unsafe { mmap_io_1_guarded_ranges() }
}

/// The operands of the instruction at `regs.pc`, if it lies in a registered range: the
/// bytes left, the source and destination addresses, and where to resume.
pub(super) fn operands(r: &[usize; RANGES], regs: &Regs) -> Option<(usize, usize, usize, usize)> {
    let pc = regs.pc;
    if (r[0]..r[1]).contains(&pc) {
        Some((regs.dx, regs.si, regs.di, r[6]))
    } else if (r[2]..r[3]).contains(&pc) {
        Some((regs.cx, regs.si, regs.di, r[6]))
    } else if (r[4]..r[5]).contains(&pc) {
        Some((8, regs.di, regs.di, r[6]))
    } else {
        None
    }
}
