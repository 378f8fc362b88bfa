//! One test in its own binary: it counts this process's flusher threads, which other tests
//! running in parallel would disturb.
mod common;

use common::{path, tempdir, threads_named};
use mmap_io::flush::FlushPolicy;
use mmap_io::segment::Segment;
use mmap_io::MemoryMappedFile;
use std::sync::Arc;

const FLUSHER: &str = "mmap-io-flusher";

fn every_millis(dir: &tempfile::TempDir, name: &str) -> MemoryMappedFile {
    MemoryMappedFile::builder(path(dir, name))
        .size(4096)
        .flush_policy(FlushPolicy::EveryMillis(5))
        .create()
        .unwrap()
}

#[test]
fn the_flusher_thread_is_joined_when_the_last_handle_drops() {
    let dir = tempdir();
    assert_eq!(threads_named(FLUSHER), 0);

    // Dropping the last of several handles stops the thread before drop returns.
    let mmap = every_millis(&dir, "a.bin");
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
    drop(clone);
    assert_eq!(
        threads_named(FLUSHER),
        0,
        "the thread must be gone once drop returns"
    );

    // unmap() of the last handle stops it too, and gives the file back.
    let mmap = every_millis(&dir, "b.bin");
    let clone = mmap.clone();
    let mmap = mmap.unmap().expect_err("a clone is alive");
    assert_eq!(threads_named(FLUSHER), 1);
    drop(clone);
    let file = mmap.unmap().expect("last handle");
    assert_eq!(threads_named(FLUSHER), 0);
    assert_eq!(file.metadata().unwrap().len(), 4096);

    // Many mappings created and dropped leave no thread behind.
    for i in 0..50 {
        drop(every_millis(&dir, &format!("c{i}.bin")));
    }
    assert_eq!(threads_named(FLUSHER), 0);

    // Other policies and read-only mappings start no thread at all.
    let manual = MemoryMappedFile::create_rw(path(&dir, "d.bin"), 4096).unwrap();
    let ro = MemoryMappedFile::builder(path(&dir, "d.bin"))
        .mode(mmap_io::MmapMode::ReadOnly)
        .flush_policy(FlushPolicy::EveryMillis(5))
        .open()
        .unwrap();
    assert_eq!(threads_named(FLUSHER), 0);
    drop((manual, ro));
}
