#![cfg(feature = "watch")]
// Some imports serve only the Linux-only tests.
#![cfg_attr(not(target_os = "linux"), allow(unused_imports))]
mod common;

use common::{path, tempdir};
use mmap_io::{ChangeEvent, ChangeKind, MemoryMappedFile, MmapIoError};
use std::io::{Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn watched(
    dir: &tempfile::TempDir,
    name: &str,
) -> (
    MemoryMappedFile,
    mpsc::Receiver<ChangeKind>,
    mmap_io::WatchHandle,
) {
    let mmap = MemoryMappedFile::create_rw(path(dir, name), 4096).unwrap();
    let (tx, rx) = mpsc::channel();
    let handle = mmap
        .watch(move |e: ChangeEvent| {
            assert!(e.offset.is_none() && e.len.is_none());
            let _ = tx.send(e.kind);
        })
        .unwrap();
    assert!(handle.is_active());
    (mmap, rx, handle)
}

/// Writes `bytes` over the start of the file at `p` through a handle of its own, without
/// truncating it (Windows refuses to truncate a mapped file).
fn overwrite(p: &std::path::Path, bytes: &[u8]) {
    let mut file = std::fs::OpenOptions::new().write(true).open(p).unwrap();
    file.write_all(bytes).unwrap();
}

fn wait_for(rx: &mpsc::Receiver<ChangeKind>, kind: ChangeKind) -> bool {
    let deadline = std::time::Instant::now() + WAIT;
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(k) if k == kind => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

#[test]
fn a_write_through_another_handle_is_modified() {
    let dir = tempdir();
    let (mmap, rx, _handle) = watched(&dir, "h.bin");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(mmap.path())
        .unwrap();
    file.seek(SeekFrom::Start(100)).unwrap();
    file.write_all(b"from another handle").unwrap();
    assert!(wait_for(&rx, ChangeKind::Modified));
}

// Unix: a shell, and removing a mapped file (Windows refuses it).
#[cfg(unix)]
#[test]
fn a_write_by_another_process_is_modified() {
    let dir = tempdir();
    let (mmap, rx, _handle) = watched(&dir, "p.bin");
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg("printf 'from a process' 1<> \"$1\"")
        .arg("sh")
        .arg(mmap.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(wait_for(&rx, ChangeKind::Modified));
    assert_eq!(mmap.as_slice(0, 14).unwrap(), b"from a process");
}

// Unix: a shell, and removing a mapped file (Windows refuses it).
#[cfg(unix)]
#[test]
fn removing_the_file_is_removed() {
    let dir = tempdir();
    let (mmap, rx, _handle) = watched(&dir, "r.bin");
    std::fs::remove_file(mmap.path()).unwrap();
    assert!(wait_for(&rx, ChangeKind::Removed));
}

// Windows reports an attribute change as a modification of the file like any other.
#[cfg(unix)]
#[test]
fn a_permission_change_is_metadata() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let (mmap, rx, _handle) = watched(&dir, "m.bin");
    std::fs::set_permissions(mmap.path(), std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(wait_for(&rx, ChangeKind::Metadata));
}

#[test]
fn dropping_the_handle_joins_the_thread_and_stops_the_callbacks() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "d.bin"), 4096).unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let captured = Arc::clone(&calls);
    let handle = mmap
        .watch(move |_| {
            captured.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
    overwrite(mmap.path(), &[1u8; 4096]);
    assert!(common::eventually(30, || calls.load(Ordering::SeqCst) > 0));
    assert_eq!(
        Arc::strong_count(&calls),
        2,
        "the callback is alive while watching"
    );
    drop(handle);
    // The callback (and the Arc it captured) is gone once drop returns: its thread ended.
    assert_eq!(
        Arc::strong_count(&calls),
        1,
        "drop returned before the thread ended"
    );
    let seen = calls.load(Ordering::SeqCst);
    overwrite(mmap.path(), &[2u8; 4096]);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        calls.load(Ordering::SeqCst),
        seen,
        "a callback ran after drop"
    );
}

#[test]
fn a_panicking_callback_ends_the_watch_quietly() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "panic.bin"), 4096).unwrap();
    let handle = mmap.watch(|_| panic!("callback failure")).unwrap();
    overwrite(mmap.path(), &[1u8; 4096]);
    assert!(common::eventually(30, || !handle.is_active()));
    drop(handle); // must not panic or hang
}

// Unix: a shell, and removing a mapped file (Windows refuses it).
#[cfg(unix)]
#[test]
fn watching_a_file_that_is_gone_is_watch_failed() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "gone.bin"), 4096).unwrap();
    std::fs::remove_file(mmap.path()).unwrap();
    let err = mmap.watch(|_| {}).unwrap_err();
    assert!(matches!(err, MmapIoError::WatchFailed(_)), "{err}");
    assert!(err.to_string().starts_with("watch failed: "));
}

#[test]
fn an_fn_mut_callback_keeps_state_and_is_called_one_at_a_time() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "state.bin"), 4096).unwrap();
    let (tx, rx) = mpsc::channel();
    let mut calls = 0u64;
    let in_call = Arc::new(AtomicUsize::new(0));
    let overlap = Arc::clone(&in_call);
    let handle = mmap
        .watch(move |_: ChangeEvent| {
            // Two calls at once would see each other here.
            assert_eq!(overlap.fetch_add(1, Ordering::SeqCst), 0);
            calls += 1;
            std::thread::sleep(Duration::from_millis(5));
            overlap.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(calls);
        })
        .unwrap();
    for i in 0..5u8 {
        overwrite(mmap.path(), &[i; 4096]);
        std::thread::sleep(Duration::from_millis(20));
    }
    // At least two calls within the deadline, then whatever else comes.
    let deadline = std::time::Instant::now() + WAIT;
    let mut last = 0;
    loop {
        let wait = match last {
            0 | 1 => deadline.saturating_duration_since(std::time::Instant::now()),
            _ => Duration::from_millis(500),
        };
        let Ok(n) = rx.recv_timeout(wait) else { break };
        assert_eq!(n, last + 1, "the state carried over from call to call");
        last = n;
    }
    assert!(last >= 2, "several events arrived ({last})");
    assert!(handle.is_active(), "no call overlapped another");
}
