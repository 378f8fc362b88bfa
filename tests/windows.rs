//! Windows semantics: what the Windows back end does where Windows differs from Unix.
//! Run under Wine by `../shared/tools/cross windows . --all-features`, which models these
//! faithfully (shrinking a mapped file, the 64 KiB allocation granularity, flushing through
//! a read-only handle).
#![cfg(windows)]
mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode};

const KIB64: u64 = 64 * 1024;

#[test]
fn a_shrink_while_another_mapping_is_open_is_io_and_keeps_the_old_length() {
    let dir = tempdir();
    let bytes = pattern(4 * KIB64 as usize, 3);
    let p = file_with(&dir, "shared.bin", &bytes);
    let a = MemoryMappedFile::open_rw(&p).unwrap();
    // A mapping outside the crate's registry: only Windows itself can refuse here.
    let file = std::fs::File::open(&p).unwrap();
    // SAFETY: the file is not truncated or written behind this map's back while it lives
    // (the shrink below is refused).
    let other = unsafe { memmap2::Mmap::map(&file).unwrap() };
    let err = a.resize(KIB64).unwrap_err();
    assert!(
        matches!(&err, MmapIoError::Io(e) if e.raw_os_error() == Some(1224)),
        "{err}"
    );
    assert_eq!(a.len(), 4 * KIB64, "the mapping keeps its old length");
    a.update_region(4 * KIB64 - 4, b"tail").unwrap();
    assert_eq!(a.as_slice(0, 8).unwrap(), &bytes[..8]);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 4 * KIB64);
    drop(other);
    a.resize(KIB64).unwrap();
    assert_eq!(a.len(), KIB64);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), KIB64);
    assert_eq!(a.as_slice(0, 8).unwrap(), &bytes[..8]);
}

#[test]
fn grow_and_shrink_of_the_only_mapping_keep_the_bytes() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "alone.bin"), KIB64).unwrap();
    mmap.update_region(100, b"kept").unwrap();
    mmap.resize(10 * KIB64 + 123).unwrap();
    mmap.update_region(10 * KIB64, b"grown").unwrap();
    mmap.resize(4096).unwrap();
    assert_eq!(mmap.as_slice(100, 4).unwrap(), b"kept");
    mmap.flush().unwrap();
    assert_eq!(read_file(mmap.path()).len(), 4096);
}

#[test]
fn mapping_a_read_only_handle_read_write_is_refused_cleanly() {
    let dir = tempdir();
    let bytes = pattern(8192, 5);
    let p = file_with(&dir, "ro.bin", &bytes);
    let err =
        MemoryMappedFile::from_file(std::fs::File::open(&p).unwrap(), MmapMode::ReadWrite, &p)
            .unwrap_err();
    assert!(matches!(err, MmapIoError::Io(_)), "{err}");
    // A read-only mapping never flushes through the handle: a no-op, not an access error.
    let ro = MemoryMappedFile::from_file(std::fs::File::open(&p).unwrap(), MmapMode::ReadOnly, &p)
        .unwrap();
    ro.flush().unwrap();
    ro.flush_range(0, 8192).unwrap();
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn flush_writes_through_a_read_write_handle() {
    let dir = tempdir();
    let p = path(&dir, "flush.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 3 * KIB64).unwrap();
    mmap.update_region(KIB64 + 7, b"durable").unwrap();
    mmap.flush().unwrap();
    mmap.update_region(2 * KIB64, b"range").unwrap();
    mmap.flush_range(2 * KIB64, 5).unwrap();
    mmap.schedule_flush().unwrap();
    let on_disk = read_file(&p);
    assert_eq!(
        &on_disk[KIB64 as usize + 7..KIB64 as usize + 14],
        b"durable"
    );
    assert_eq!(
        &on_disk[2 * KIB64 as usize..2 * KIB64 as usize + 5],
        b"range"
    );
}

#[test]
fn raw_windows_at_offsets_between_64_kib_boundaries_read_the_right_bytes() {
    use mmap_io::raw::{offset_granularity, RawMmapOptions};
    assert_eq!(offset_granularity().unwrap(), KIB64 as usize);
    let dir = tempdir();
    let bytes = pattern(5 * KIB64 as usize, 9);
    let p = file_with(&dir, "windows.bin", &bytes);
    let file = std::fs::File::open(&p).unwrap();
    for offset in [1, 4096, KIB64 - 1, KIB64, KIB64 + 4096, 3 * KIB64 + 12_345] {
        // SAFETY: nothing truncates or writes the file while the map lives.
        let window = unsafe { RawMmapOptions::new().offset(offset).len(100).map(&file) }.unwrap();
        assert_eq!(
            &window[..],
            &bytes[offset as usize..offset as usize + 100],
            "{offset}"
        );
    }
}

#[cfg(feature = "advise")]
#[test]
fn will_need_prefetches_and_other_advice_succeeds() {
    use mmap_io::MmapAdvice;
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "advice.bin"), 4 * KIB64).unwrap();
    for advice in [
        MmapAdvice::WillNeed,
        MmapAdvice::Normal,
        MmapAdvice::Random,
        MmapAdvice::Sequential,
        MmapAdvice::DontNeed,
    ] {
        mmap.advise(123, KIB64, advice).unwrap();
    }
    mmap.prefetch_range(0, 4 * KIB64).unwrap();
}

#[cfg(feature = "locking")]
#[test]
fn lock_and_unlock_are_virtual_lock() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "lock.bin"), KIB64).unwrap();
    match mmap.lock(100, 8192) {
        Ok(()) => mmap.unlock(100, 8192).unwrap(),
        // The working set may be too small to lock more pages: a clean error, never a panic.
        Err(e) => assert!(matches!(e, MmapIoError::LockFailed(_)), "{e}"),
    }
}

#[test]
fn a_mapped_file_may_be_renamed_and_deleted_under_its_mapping() {
    let dir = tempdir();
    let bytes = pattern(2 * KIB64 as usize, 5);
    let p = file_with(&dir, "rotate.log", &bytes);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    // Log rotation: the live file is renamed away while mapped.
    let rotated = path(&dir, "rotate.log.1");
    std::fs::rename(&p, &rotated).unwrap();
    mmap.update_region(0, b"after").unwrap();
    mmap.flush().unwrap();
    assert_eq!(&read_file(&rotated)[..5], b"after");
    // And deleted while mapped: at once with POSIX semantics, or when the mapping closes.
    match mmap_io::delete_mmap(&rotated) {
        Ok(()) => {
            assert_eq!(mmap.as_slice(5, 5).unwrap(), &bytes[5..10]);
            drop(mmap);
            assert!(!rotated.exists(), "the file outlived its last handle");
        }
        Err(MmapIoError::Io(e)) => {
            assert!(e.to_string().contains("mapping"), "the error says why: {e}");
            assert_eq!(&read_file(&rotated)[5..10], &bytes[5..10]);
        }
        Err(other) => panic!("unexpected error: {other}"),
    }
}
