//! The vectored exception handler: recovers in-page errors of the guarded routine and lets
//! every other exception go on to the next handler (see `docs/FAULTS.md`).

use super::recovery::{recover, Regs};
use super::Cause;
use std::io;
use windows_sys::Win32::Foundation::{EXCEPTION_IN_PAGE_ERROR, STATUS_END_OF_FILE};
use windows_sys::Win32::System::Diagnostics::Debug::{
    AddVectoredExceptionHandler, EXCEPTION_POINTERS,
};

const EXCEPTION_CONTINUE_EXECUTION: i32 = -1;
const EXCEPTION_CONTINUE_SEARCH: i32 = 0;

/// Marks a cause as present even where the `NTSTATUS` reads 0.
const PRESENT: usize = 1 << 32;

/// Installs the handler, first in line; the caller runs this once.
pub(super) fn install() {
    // SAFETY: `on_exception` has the signature of a vectored handler and stays valid for
    // the life of the process; the handler is never removed.
    unsafe { AddVectoredExceptionHandler(1, Some(on_exception)) };
}

/// What the cause recorded by [`on_exception`] means.
pub(super) fn cause(cause: usize) -> Cause {
    let status = cause as u32 as i32;
    if status == STATUS_END_OF_FILE {
        Cause::Cut
    } else {
        Cause::Io(io::Error::other(format!(
            "in-page error, NTSTATUS {:#010x}",
            status as u32
        )))
    }
}

/// The handler: takes no lock and allocates nothing.
unsafe extern "system" fn on_exception(pointers: *mut EXCEPTION_POINTERS) -> i32 {
    // SAFETY: the system passes valid exception and context records.
    let (record, context) = unsafe {
        (
            &*(*pointers).ExceptionRecord,
            &mut *(*pointers).ContextRecord,
        )
    };
    if record.ExceptionCode != EXCEPTION_IN_PAGE_ERROR || record.NumberParameters < 3 {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    let addr = record.ExceptionInformation[1];
    let status = record.ExceptionInformation[2] as u32 as usize;
    let mut regs = Regs {
        pc: context.Rip as usize,
        ax: context.Rax as usize,
        cx: context.Rcx as usize,
        dx: context.Rdx as usize,
        si: context.Rsi as usize,
        di: context.Rdi as usize,
    };
    if !recover(&mut regs, addr, 1, PRESENT | status) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    context.Rip = regs.pc as u64;
    context.Rax = regs.ax as u64;
    context.Rdx = regs.dx as u64;
    EXCEPTION_CONTINUE_EXECUTION
}
