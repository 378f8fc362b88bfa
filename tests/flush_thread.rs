//! One test in its own binary: it counts this process's flusher threads, which other tests
//! running in parallel would disturb. Linux only: it reads `/proc/self/task` and
//! `/proc/self/maps`.
#![cfg(target_os = "linux")]
mod common;

use common::{eventually, path, tempdir, threads_named};
use mmap_io::flush::FlushPolicy;
use mmap_io::segment::Segment;
use mmap_io::MemoryMappedFile;
use std::path::Path;
use std::sync::Arc;

const FLUSHER: &str = "mmap-io-flusher";

fn every_millis(p: &Path) -> MemoryMappedFile {
    let mmap = MemoryMappedFile::builder(p)
        .size(4096)
        .flush_policy(FlushPolicy::EveryMillis(5))
        .create()
        .unwrap();
    // A new thread sets its own name, so it may take a moment to show.
    assert!(
        eventually(30, || threads_named(FLUSHER) >= 1),
        "no flusher thread"
    );
    mmap
}

/// Whether `p` is mapped into this process.
fn is_mapped(p: &Path) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let p = p.to_string_lossy();
    maps.lines().any(|l| l.ends_with(p.as_ref()))
}

/// The flusher thread holds a reference to the mapping, so the mapping can only be gone
/// when `drop` returns if the thread was joined first; the kernel may take a moment more to
/// remove the finished thread from /proc.
fn assert_joined(p: &Path) {
    assert!(
        !is_mapped(p),
        "the flusher thread still held the mapping after drop"
    );
    assert!(
        eventually(30, || threads_named(FLUSHER) == 0),
        "the flusher thread lives on"
    );
}

#[test]
fn the_flusher_thread_is_joined_when_the_last_handle_drops() {
    let dir = tempdir();
    assert_eq!(threads_named(FLUSHER), 0);

    // Dropping the last of several handles stops the thread before drop returns.
    let a = path(&dir, "a.bin");
    let mmap = every_millis(&a);
    assert_eq!(
        threads_named(FLUSHER),
        1,
        "EveryMillis runs one named thread"
    );
    let clone = mmap.clone();
    let segment = Segment::new(Arc::new(mmap.clone()), 0, 16).unwrap();
    mmap.update_region(0, b"data").unwrap();
    drop(mmap);
    drop(segment);
    assert_eq!(threads_named(FLUSHER), 1, "a live clone keeps the thread");
    assert!(is_mapped(&a));
    drop(clone);
    assert_joined(&a);

    // unmap() of the last handle stops it too, and gives the file back.
    let b = path(&dir, "b.bin");
    let mmap = every_millis(&b);
    let clone = mmap.clone();
    let mmap = mmap.unmap().expect_err("a clone is alive");
    assert_eq!(threads_named(FLUSHER), 1);
    drop(clone);
    let file = mmap.unmap().expect("last handle");
    assert_joined(&b);
    assert_eq!(file.metadata().unwrap().len(), 4096);

    // Many mappings created and dropped leave no thread behind.
    for i in 0..50 {
        let p = path(&dir, &format!("c{i}.bin"));
        drop(every_millis(&p));
        assert!(!is_mapped(&p));
    }
    assert!(eventually(30, || threads_named(FLUSHER) == 0));

    // Other policies and read-only mappings start no thread at all.
    let d = path(&dir, "d.bin");
    let manual = MemoryMappedFile::create_rw(&d, 4096).unwrap();
    let ro = MemoryMappedFile::builder(&d)
        .mode(mmap_io::MmapMode::ReadOnly)
        .flush_policy(FlushPolicy::EveryMillis(5))
        .open()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(threads_named(FLUSHER), 0);
    drop((manual, ro));
}
