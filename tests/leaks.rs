//! One test in its own binary: it counts the process's mappings and threads, which tests
//! running in parallel would disturb. Linux only: it reads them from /proc.
#![cfg(target_os = "linux")]
mod common;

use common::{eventually, path, tempdir};
use mmap_io::flush::FlushPolicy;
use mmap_io::{AnonymousMmap, MemoryMappedFile, MmapMode};

fn mapping_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Maps, uses and drops mappings in every mode and flush policy, `rounds` times.
fn workload(p: &std::path::Path, rounds: u64) {
    for i in 0..rounds {
        match i % 6 {
            0 => {
                let m = MemoryMappedFile::create_rw(p, 64 * 1024 + i).unwrap();
                m.update_region(0, b"x").unwrap();
                m.resize(128 * 1024).unwrap();
                m.flush().unwrap();
            }
            1 => {
                let m = MemoryMappedFile::open_ro(p).unwrap();
                let _slice = m.as_slice(0, 16).unwrap();
                m.touch_pages().unwrap();
            }
            2 => {
                let m = MemoryMappedFile::builder(p)
                    .mode(MmapMode::ReadWrite)
                    .flush_policy(FlushPolicy::EveryMillis(1))
                    .open()
                    .unwrap();
                let clone = m.clone();
                clone.update_region(8, b"y").unwrap();
                drop(m);
            }
            3 => {
                let m = MemoryMappedFile::open_rw(p).unwrap();
                drop(m.unmap().unwrap());
            }
            4 => {
                let a = AnonymousMmap::new(1 << 20).unwrap();
                a.update_region(0, b"anon").unwrap();
            }
            _ => {
                let mode = if cfg!(feature = "cow") {
                    MmapMode::CopyOnWrite
                } else {
                    MmapMode::ReadOnly
                };
                let m = MemoryMappedFile::builder(p).mode(mode).open().unwrap();
                let _ = m.update_region(0, b"private");
                #[cfg(feature = "watch")]
                drop(m.watch(|_| {}).unwrap());
            }
        }
    }
}

#[test]
fn thousands_of_cycles_leave_no_mapping_and_no_thread() {
    // The test harness's threads, before any work.
    let threads = thread_count();
    let dir = tempdir();
    let p = path(&dir, "cycle.bin");
    drop(MemoryMappedFile::create_rw(&p, 64 * 1024).unwrap());
    // The C library keeps the stacks of finished threads and per-thread malloc arenas for
    // reuse; a first run of the same work fills those caches before the baseline is taken.
    workload(&p, 600);
    // A dropped watcher's own thread ends after the drop returns (it is told to stop, not
    // waited for), and on a loaded machine it may take a while: the baseline of mappings is
    // taken once every thread of the first run is gone.
    assert!(
        eventually(30, || thread_count() == threads),
        "the first run left {} threads (before: {threads})",
        thread_count()
    );
    let maps = mapping_count();

    workload(&p, 3000);
    // Finished threads may take a moment to leave /proc; their stacks are mappings too. The
    // C library may add a malloc arena or cache a stack if more threads ever overlap than in
    // the first run (a few mappings, kept for reuse); a leak per cycle would be thousands.
    assert!(
        eventually(30, || thread_count() == threads
            && mapping_count() <= maps + 8),
        "leaked: {} threads (before: {threads}), {} mappings (before: {maps})",
        thread_count(),
        mapping_count()
    );
}
