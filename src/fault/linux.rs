//! The `SIGBUS` handler: recovers faults of the guarded routine, and passes every other one
//! to the action installed before it (see `docs/FAULTS.md`).

use super::recovery::{recover, Regs};
use super::Cause;
use libc::{c_int, c_void, siginfo_t, ucontext_t};
use std::io;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering::Acquire, Ordering::Release};

/// The action installed before ours, published before ours is installed.
static PREVIOUS: AtomicPtr<libc::sigaction> = AtomicPtr::new(ptr::null_mut());

#[cfg(target_arch = "x86")]
use libc::{
    REG_EAX as AX, REG_ECX as CX, REG_EDI as DI, REG_EDX as DX, REG_EIP as PC, REG_ESI as SI,
};
#[cfg(target_arch = "x86_64")]
use libc::{
    REG_RAX as AX, REG_RCX as CX, REG_RDI as DI, REG_RDX as DX, REG_RIP as PC, REG_RSI as SI,
};

/// What a cause recorded by [`on_sigbus`] (its `si_code`) means.
pub(super) fn cause(cause: usize) -> Cause {
    match cause as c_int {
        libc::BUS_ADRERR => Cause::Cut,
        _ => Cause::Io(io::Error::from_raw_os_error(libc::EIO)),
    }
}

/// Installs the handler; the caller runs this once.
pub(super) fn install() {
    // SAFETY: `sigaction` with a null new action only reads the current one into `old`,
    // a zeroed (valid) `sigaction`.
    let old = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGBUS, ptr::null(), &mut old) != 0 {
            return;
        }
        old
    };
    PREVIOUS.store(Box::into_raw(Box::new(old)), Release);
    // SAFETY: a zeroed `sigaction` is valid; `on_sigbus` has the signature `SA_SIGINFO`
    // handlers are called with, and stays valid for the life of the process.
    unsafe {
        let mut new: libc::sigaction = std::mem::zeroed();
        new.sa_sigaction = on_sigbus as *const () as usize;
        new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
        libc::sigemptyset(&mut new.sa_mask);
        let mut replaced: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(libc::SIGBUS, &new, &mut replaced) == 0
            && (replaced.sa_sigaction != old.sa_sigaction || replaced.sa_flags != old.sa_flags)
        {
            // Another thread changed the action in between: that is the one to pass to.
            PREVIOUS.store(Box::into_raw(Box::new(replaced)), Release);
        }
    }
}

/// The handler. Async-signal-safe: it reads the signal's information and context, one
/// atomic, and calls only `sigaction`, `pthread_sigmask` and `raise` (or the previous
/// handler).
extern "C" fn on_sigbus(signal: c_int, info: *mut siginfo_t, context: *mut c_void) {
    // SAFETY: the kernel passes a valid `siginfo_t` for the signal being handled.
    let (code, addr) = unsafe { ((*info).si_code, (*info).si_addr() as usize) };
    if matches!(
        code,
        libc::BUS_ADRERR | libc::BUS_OBJERR | libc::BUS_MCEERR_AR
    ) {
        // SAFETY: with `SA_SIGINFO`, the third argument is the interrupted thread's
        // `ucontext_t`, which the kernel restores (with our changes) when we return.
        let gregs = unsafe { &mut (*(context as *mut ucontext_t)).uc_mcontext.gregs };
        let reg = |i: c_int| gregs[i as usize] as usize;
        let mut regs = Regs {
            pc: reg(PC),
            ax: reg(AX),
            cx: reg(CX),
            dx: reg(DX),
            si: reg(SI),
            di: reg(DI),
        };
        // A machine check names the poisoned page, not the byte.
        let granule = if code == libc::BUS_MCEERR_AR { 4096 } else { 1 };
        if recover(&mut regs, addr, granule, code as usize) {
            gregs[PC as usize] = regs.pc as _;
            gregs[AX as usize] = regs.ax as _;
            gregs[DX as usize] = regs.dx as _;
            return;
        }
    }
    // SAFETY: the arguments are the ones the kernel passed us.
    unsafe { pass_on(signal, info, context, code) }
}

/// Hands a fault that is not ours to the action installed before ours, as the kernel would
/// have: a default or ignored action applies to it, and a handler is called with its mask
/// blocked (and the signal, unless it asked for `SA_NODEFER`), reset first if it asked for
/// `SA_RESETHAND`.
///
/// # Safety
///
/// The arguments are those of a `SA_SIGINFO` handler call for `signal`.
unsafe fn pass_on(signal: c_int, info: *mut siginfo_t, context: *mut c_void, code: c_int) {
    // SAFETY: a zeroed `sigaction` is valid (an empty mask, no flags): `SIG_DFL`.
    let default: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: `PREVIOUS` is null or a leaked `Box` published once and never freed.
    let previous = unsafe { PREVIOUS.load(Acquire).as_ref() }.unwrap_or(&default);
    // A fault of an instruction comes back when the handler returns (the instruction runs
    // again); a signal sent by a process or an asynchronous machine check does not.
    let repeats = matches!(
        code,
        libc::BUS_ADRALN | libc::BUS_ADRERR | libc::BUS_OBJERR | libc::BUS_MCEERR_AR
    );
    match previous.sa_sigaction {
        libc::SIG_IGN if !repeats => {}
        libc::SIG_DFL | libc::SIG_IGN => {
            // SAFETY: the old action back is what the process had without us. A repeated
            // fault meets it (the kernel applies the default action to a fault whose signal
            // is ignored); anything else is raised again, for the default action.
            unsafe {
                libc::sigaction(signal, previous, ptr::null_mut());
                if !repeats {
                    libc::raise(signal);
                }
            }
        }
        handler => {
            // SAFETY: the masks are valid `sigset_t`s; `sigaction` and `pthread_sigmask`
            // are async-signal-safe; the handler is called with the arguments its flags ask
            // for, which are the kernel's.
            unsafe {
                let mut mask = previous.sa_mask;
                if previous.sa_flags & libc::SA_NODEFER == 0 {
                    libc::sigaddset(&mut mask, signal);
                }
                let mut before: libc::sigset_t = std::mem::zeroed();
                libc::pthread_sigmask(libc::SIG_BLOCK, &mask, &mut before);
                if previous.sa_flags & libc::SA_RESETHAND != 0 {
                    libc::sigaction(signal, &default, ptr::null_mut());
                }
                if previous.sa_flags & libc::SA_SIGINFO != 0 {
                    let handler: extern "C" fn(c_int, *mut siginfo_t, *mut c_void) =
                        std::mem::transmute(handler);
                    handler(signal, info, context);
                } else {
                    let handler: extern "C" fn(c_int) = std::mem::transmute(handler);
                    handler(signal);
                }
                libc::pthread_sigmask(libc::SIG_SETMASK, &before, ptr::null_mut());
            }
        }
    }
}
