//! What the platform handlers share: the table of registered ranges, set once before the
//! handler is installed, and the rule that decides whether a fault is the routine's.

use super::arch;
use super::handler;
use std::sync::OnceLock;

pub(super) use handler::cause;

/// The registers a recovery reads and writes, as the handler found them in the interrupted
/// context.
pub(super) struct Regs {
    pub(super) pc: usize,
    pub(super) ax: usize,
    pub(super) cx: usize,
    pub(super) dx: usize,
    pub(super) si: usize,
    pub(super) di: usize,
}

/// The registered ranges, as absolute addresses; set before the handler is installed.
static TABLE: OnceLock<[usize; arch::RANGES]> = OnceLock::new();

/// Installs the fault handler, once per process (see `docs/FAULTS.md`); does nothing more
/// if the system refuses.
pub(crate) fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = TABLE.set(ranges());
        handler::install();
    });
}

/// The registered ranges of the routine, as absolute addresses.
pub(super) fn ranges() -> [usize; arch::RANGES] {
    let table = arch::table();
    // SAFETY: `table` points to the routine's table, in this binary's code (not aligned
    // on every architecture).
    let offsets = unsafe { table.read_unaligned() };
    offsets.map(|o| (table as usize).wrapping_add(o as isize as usize))
}

/// Recovers a fault on `addr` in the context `regs`, with the handler's `cause` (nonzero),
/// if it is the routine's; `granule` is how precise `addr` is (1, or a page for a machine
/// check, whose address is the poisoned page's). Async-signal-safe: one atomic load and
/// arithmetic.
pub(super) fn recover(regs: &mut Regs, addr: usize, granule: usize, cause: usize) -> bool {
    match TABLE.get() {
        Some(table) => recover_in(table, regs, addr, granule, cause),
        None => false,
    }
}

/// [`recover`] against the ranges `table`: the fault is taken only at an instruction in a
/// registered range, on an address (to within `granule`, a power of two) inside the
/// operands the registers give there; then the return registers get the bytes left and the
/// cause, and execution resumes at the exit.
pub(super) fn recover_in(
    table: &[usize; arch::RANGES],
    regs: &mut Regs,
    addr: usize,
    granule: usize,
    cause: usize,
) -> bool {
    let Some((left, from, to, resume)) = arch::operands(table, regs) else {
        return false;
    };
    // Whether `addr`'s granule meets `base..base + left`.
    let meets = |base: usize| {
        let low = base & !(granule - 1);
        addr.wrapping_sub(low) < left + (base - low)
    };
    if left == 0 || !(meets(from) || meets(to)) {
        return false;
    }
    regs.ax = left;
    regs.dx = cause;
    regs.pc = resume;
    true
}
