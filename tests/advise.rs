#![cfg(feature = "advise")]
mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::{MemoryMappedFile, MmapAdvice, MmapIoError};

const ALL: [MmapAdvice; 5] = [
    MmapAdvice::Normal,
    MmapAdvice::Random,
    MmapAdvice::Sequential,
    MmapAdvice::WillNeed,
    MmapAdvice::DontNeed,
];

#[test]
fn every_advice_works_at_unaligned_offsets() {
    let dir = tempdir();
    let bytes = pattern(5 * 4096 + 17, 1);
    let p = file_with(&dir, "a.bin", &bytes);
    let len = bytes.len() as u64;
    for mmap in [
        MemoryMappedFile::open_ro(&p).unwrap(),
        MemoryMappedFile::open_rw(&p).unwrap(),
    ] {
        for advice in ALL {
            for (offset, n) in [
                (0, len),
                (1, 1),
                (4095, 2),
                (4097, len - 4097),
                (len - 1, 1),
            ] {
                mmap.advise(offset, n, advice)
                    .unwrap_or_else(|e| panic!("{advice:?} at {offset}+{n}: {e}"));
            }
        }
        assert_eq!(mmap.as_slice(0, len).unwrap(), bytes.as_slice());
    }
}

#[test]
fn dont_need_keeps_written_bytes_of_a_read_write_mapping() {
    let dir = tempdir();
    let p = path(&dir, "keep.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 64 * 1024).unwrap();
    mmap.update_region(5000, b"still here").unwrap();
    mmap.advise(0, 64 * 1024, MmapAdvice::DontNeed).unwrap();
    assert_eq!(mmap.as_slice(5000, 10).unwrap(), b"still here");
    mmap.flush().unwrap();
    assert_eq!(&read_file(&p)[5000..5010], b"still here");
}

#[test]
fn out_of_range_advice_is_refused() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "oob.bin"), 8192).unwrap();
    for advice in ALL {
        for (offset, len) in [(0, 8193), (8192, 1), (u64::MAX, 1), (1, u64::MAX)] {
            assert!(
                matches!(
                    mmap.advise(offset, len, advice),
                    Err(MmapIoError::OutOfBounds { .. })
                ),
                "{advice:?} {offset}+{len}"
            );
        }
        mmap.advise(u64::MAX, 0, advice).unwrap();
    }
}

#[cfg(all(feature = "locking", target_os = "linux"))]
#[test]
fn advice_the_kernel_refuses_is_advice_failed() {
    // The kernel refuses MADV_DONTNEED on locked pages (EINVAL).
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "locked.bin"), 8192).unwrap();
    if let Err(e) = mmap.lock(0, 8192) {
        println!("skipped: cannot lock pages here ({e})");
        return;
    }
    let err = mmap.advise(0, 8192, MmapAdvice::DontNeed).unwrap_err();
    assert!(matches!(err, MmapIoError::AdviceFailed(_)), "{err}");
    mmap.unlock(0, 8192).unwrap();
    mmap.advise(0, 8192, MmapAdvice::DontNeed).unwrap();
}
