#![cfg(feature = "locking")]
mod common;

use common::{file_with, path, pattern, read_file, run_child_test, smaps_kb, tempdir};
use mmap_io::{MemoryMappedFile, MmapIoError};

const CHILD_MARKER: &str = "lock-failed-confirmed";

/// Checks that `kb` kilobytes of `mmap` are locked, where the kernel tells
/// (`/proc/self/smaps` on Linux; elsewhere only the calls' success is checked).
fn assert_locked_kb(mmap: &MemoryMappedFile, kb: u64) {
    if cfg!(target_os = "linux") {
        // SAFETY: the address is only compared against /proc/self/smaps.
        assert_eq!(smaps_kb(unsafe { mmap.as_ptr() } as usize, "Locked"), kb);
    }
}

fn can_lock() -> bool {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "probe.bin"), 4096).unwrap();
    match mmap.lock_all() {
        Ok(()) => true,
        Err(e) => {
            println!("skipped: this process may not lock memory ({e})");
            false
        }
    }
}

#[test]
fn lock_and_unlock_pin_and_release_pages() {
    if !can_lock() {
        return;
    }
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "l.bin"), 64 * 1024).unwrap();
    assert_locked_kb(&mmap, 0);
    mmap.lock(100, 8192).unwrap(); // unaligned: widened to three pages
    assert_locked_kb(&mmap, 12);
    mmap.unlock(100, 8192).unwrap();
    assert_locked_kb(&mmap, 0);
    mmap.lock_all().unwrap();
    assert_locked_kb(&mmap, 64);
    mmap.unlock_all().unwrap();
    assert_locked_kb(&mmap, 0);
}

#[test]
fn locking_out_of_range_is_refused() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "oob.bin"), 8192).unwrap();
    for (offset, len) in [(0, 8193), (8192, 1), (u64::MAX, 1), (1, u64::MAX)] {
        assert!(matches!(
            mmap.lock(offset, len),
            Err(MmapIoError::OutOfBounds { .. })
        ));
        assert!(matches!(
            mmap.unlock(offset, len),
            Err(MmapIoError::OutOfBounds { .. })
        ));
    }
    mmap.lock(u64::MAX, 0).unwrap();
    mmap.unlock(u64::MAX, 0).unwrap();
}

#[test]
fn a_read_only_mapping_can_be_locked() {
    if !can_lock() {
        return;
    }
    let dir = tempdir();
    let p = file_with(&dir, "ro.bin", &pattern(8192, 1));
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    ro.lock_all().unwrap();
    assert_locked_kb(&ro, 8);
    ro.unlock_all().unwrap();
}

#[test]
fn a_lock_the_os_refuses_is_lock_failed() {
    // Without CAP_IPC_LOCK and with RLIMIT_MEMLOCK at 0, mlock fails with EPERM.
    let wrapper = [
        "setpriv",
        "--inh-caps=-all",
        "--bounding-set=-ipc_lock",
        "--",
        "prlimit",
        "--memlock=0:0",
        "--",
    ];
    let Some(out) = run_child_test("lock_without_privilege_child", &wrapper) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("setpriv:") {
        println!("skipped: setpriv cannot drop CAP_IPC_LOCK here: {stderr}");
        return;
    }
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(CHILD_MARKER),
        "the child did not run:\n{stdout}"
    );
}

#[test]
#[ignore = "runs in a child process started by a_lock_the_os_refuses_is_lock_failed"]
fn lock_without_privilege_child() {
    let dir = tempdir();
    let bytes = pattern(8192, 2);
    let p = file_with(&dir, "child.bin", &bytes);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    for result in [mmap.lock(0, 4096), mmap.lock_all()] {
        let err = result.unwrap_err();
        assert!(matches!(err, MmapIoError::LockFailed(_)), "{err}");
        assert!(err.to_string().starts_with("lock failed: "));
    }
    assert_locked_kb(&mmap, 0);
    mmap.flush().unwrap();
    assert_eq!(read_file(&p), bytes);
    println!("{CHILD_MARKER}");
}
