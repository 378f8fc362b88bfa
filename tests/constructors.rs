// Some imports serve only the Linux-only tests.
#![cfg_attr(not(target_os = "linux"), allow(unused_imports))]
mod common;

use common::{file_with, path, pattern, read_file, resident_kb, tempdir};
use mmap_io::flush::FlushPolicy;
use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode, TouchHint};
use std::fs::OpenOptions;
use std::io::ErrorKind;

fn is_not_found(err: &MmapIoError) -> bool {
    matches!(err, MmapIoError::Io(e) if e.kind() == ErrorKind::NotFound)
}

fn is_zero_size(err: &MmapIoError) -> bool {
    matches!(err, MmapIoError::ResizeFailed(m) if m == "Size must be greater than zero")
}

#[test]
fn create_rw_makes_a_zeroed_file_of_the_requested_size() {
    let dir = tempdir();
    let p = path(&dir, "new.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 10_000).unwrap();
    assert_eq!(mmap.len(), 10_000);
    assert_eq!(mmap.mode(), MmapMode::ReadWrite);
    assert_eq!(mmap.path(), p);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 10_000);
    assert!(mmap.as_slice(0, 10_000).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn create_rw_truncates_an_existing_file_to_zeros() {
    let dir = tempdir();
    let p = file_with(&dir, "old.bin", &pattern(8192, 1));
    let mmap = MemoryMappedFile::create_rw(&p, 100).unwrap();
    assert_eq!(mmap.len(), 100);
    assert_eq!(read_file(&p), vec![0u8; 100]);
    drop(mmap);
    let grown = MemoryMappedFile::create_rw(&p, 5000).unwrap();
    assert!(grown.as_slice(0, 5000).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn create_with_size_zero_is_refused_and_leaves_the_file_intact() {
    let dir = tempdir();
    let before = pattern(3000, 7);
    let p = file_with(&dir, "keep.bin", &before);
    assert!(is_zero_size(
        &MemoryMappedFile::create_rw(&p, 0).unwrap_err()
    ));
    assert!(is_zero_size(&mmap_io::create_mmap(&p, 0).unwrap_err()));
    assert!(is_zero_size(
        &MemoryMappedFile::builder(&p).size(0).create().unwrap_err()
    ));
    assert_eq!(read_file(&p), before);

    let absent = path(&dir, "absent.bin");
    assert!(is_zero_size(
        &MemoryMappedFile::create_rw(&absent, 0).unwrap_err()
    ));
    assert!(
        !absent.exists(),
        "a refused create must not leave a file behind"
    );
}

#[test]
fn builder_create_without_a_size_is_refused() {
    let dir = tempdir();
    let p = path(&dir, "nosize.bin");
    let no_size = |err: MmapIoError| matches!(err, MmapIoError::ResizeFailed(m) if m == "Size must be set for create() in ReadWrite mode");
    assert!(no_size(MemoryMappedFile::builder(&p).create().unwrap_err()));
    assert!(no_size(
        MemoryMappedFile::builder(&p).open_or_create().unwrap_err()
    ));
    assert!(!p.exists());
}

#[test]
fn create_that_the_file_system_refuses_keeps_the_old_file() {
    let dir = tempdir();
    let before = pattern(4096, 3);
    let p = file_with(&dir, "big.bin", &before);
    // Below the size limit, but more than any disk here holds: allocating the blocks fails
    // with ENOSPC (or EFBIG where the file system's largest file is smaller).
    let err = MemoryMappedFile::builder(&p)
        .size(UNALLOCATABLE)
        .preallocate(true)
        .create()
        .unwrap_err();
    assert!(is_refused_size(&err), "{err}");
    assert_eq!(read_file(&p), before);
}

/// More than any disk here holds, within the size limit where `usize` has 64 bits (where
/// it has 32, the limit of 2 GiB refuses it first).
const UNALLOCATABLE: u64 = 100 << 40;

/// How a create of [`UNALLOCATABLE`] bytes is refused: by the file system (ENOSPC, or EFBIG
/// where its largest file is smaller), or on 32-bit targets by the size limit.
fn is_refused_size(err: &MmapIoError) -> bool {
    match err {
        MmapIoError::Io(_) => cfg!(target_pointer_width = "64"),
        MmapIoError::ResizeFailed(m) => {
            cfg!(target_pointer_width = "32") && m.contains("exceeds maximum safe limit")
        }
        _ => false,
    }
}

/// The published limit: 128 TiB on 64-bit targets, 2 GiB on 32-bit ones.
const LIMIT: u64 = if cfg!(target_pointer_width = "64") {
    1 << 47
} else {
    1 << 31
};

fn is_over_limit(err: &MmapIoError, size: u64) -> bool {
    matches!(err, MmapIoError::ResizeFailed(m)
        if *m == format!("Size {size} exceeds maximum safe limit of {LIMIT} bytes"))
}

#[test]
fn sizes_above_the_limit_are_refused_before_the_file_is_touched() {
    let dir = tempdir();
    let before = pattern(4096, 4);
    let existing = file_with(&dir, "existing.bin", &before);
    let absent = path(&dir, "absent.bin");
    for size in [LIMIT + 1, u64::MAX / 2, u64::MAX] {
        for p in [&existing, &absent] {
            let mut results = vec![
                MemoryMappedFile::create_rw(p, size),
                mmap_io::create_mmap(p, size),
                MemoryMappedFile::builder(p).size(size).create(),
                MemoryMappedFile::builder(p).size(size).create_new(),
            ];
            // An existing file maps at its length whatever the size (tests/parity.rs).
            if p == &absent {
                results.push(MemoryMappedFile::builder(p).size(size).open_or_create());
                results.push(MemoryMappedFile::open_or_create(p, size));
            }
            for (i, result) in results.into_iter().enumerate() {
                let err = result.map(drop).unwrap_err();
                assert!(is_over_limit(&err, size), "path {i} for {size}: {err}");
            }
        }
        assert_eq!(read_file(&existing), before);
        assert!(
            !absent.exists(),
            "no file is created for a size that is refused"
        );
    }
}

#[test]
fn opening_a_missing_file_is_not_found_in_every_mode() {
    let dir = tempdir();
    let p = path(&dir, "missing.bin");
    assert!(is_not_found(&MemoryMappedFile::open_ro(&p).unwrap_err()));
    assert!(is_not_found(&MemoryMappedFile::open_rw(&p).unwrap_err()));
    assert!(is_not_found(
        &mmap_io::load_mmap(&p, MmapMode::ReadOnly).unwrap_err()
    ));
    assert!(is_not_found(
        &MemoryMappedFile::builder(&p).size(10).open().unwrap_err()
    ));
    assert!(!p.exists(), "open must never create");
}

#[test]
fn open_ro_sees_the_file_contents() {
    let dir = tempdir();
    let bytes = pattern(10_000, 9);
    let p = file_with(&dir, "ro.bin", &bytes);
    let mmap = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(mmap.mode(), MmapMode::ReadOnly);
    assert_eq!(mmap.len(), 10_000);
    assert_eq!(mmap.as_slice(0, 10_000).unwrap(), bytes.as_slice());
}

#[test]
fn an_empty_file_opens_read_only_with_length_zero() {
    let dir = tempdir();
    let p = file_with(&dir, "empty.bin", b"");
    let mmap = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(mmap.len(), 0);
    assert!(mmap.is_empty());
    assert!(mmap.as_slice(0, 0).unwrap().is_empty());
    assert!(mmap.as_slice(0, 1).is_err());
    mmap.touch_pages().unwrap();
    mmap.flush().unwrap();
}

#[test]
fn an_empty_file_is_refused_read_write_and_left_empty() {
    let dir = tempdir();
    let p = file_with(&dir, "empty.bin", b"");
    let err = MemoryMappedFile::open_rw(&p).unwrap_err();
    assert!(matches!(err, MmapIoError::ResizeFailed(_)), "{err}");
    let file = OpenOptions::new().read(true).write(true).open(&p).unwrap();
    let err = MemoryMappedFile::from_file(file, MmapMode::ReadWrite, &p).unwrap_err();
    assert!(matches!(err, MmapIoError::ResizeFailed(_)), "{err}");
    let err = mmap_io::load_mmap(&p, MmapMode::ReadWrite).unwrap_err();
    assert!(matches!(err, MmapIoError::ResizeFailed(_)), "{err}");
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 0);
}

#[test]
fn open_rw_writes_reach_the_file() {
    let dir = tempdir();
    let p = file_with(&dir, "rw.bin", &[0u8; 64]);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    mmap.update_region(3, b"abc").unwrap();
    mmap.flush().unwrap();
    assert_eq!(&read_file(&p)[3..6], b"abc");
}

#[test]
fn open_or_create_creates_a_missing_file() {
    let dir = tempdir();
    let p = path(&dir, "fresh.bin");
    let mmap = MemoryMappedFile::open_or_create(&p, 2048).unwrap();
    assert_eq!(mmap.len(), 2048);
    assert_eq!(mmap.mode(), MmapMode::ReadWrite);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 2048);
}

#[test]
fn open_or_create_never_truncates_an_existing_file() {
    let dir = tempdir();
    let bytes = pattern(1000, 5);
    let p = file_with(&dir, "existing.bin", &bytes);
    for size in [1, 500, 1000, 4096] {
        let mmap = MemoryMappedFile::open_or_create(&p, size).unwrap();
        assert_eq!(mmap.len(), 1000);
        assert_eq!(mmap.as_slice(0, 1000).unwrap(), bytes.as_slice());
    }
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn open_or_create_sizes_an_empty_existing_file() {
    let dir = tempdir();
    let p = file_with(&dir, "empty.bin", b"");
    let mmap = MemoryMappedFile::open_or_create(&p, 4096).unwrap();
    assert_eq!(mmap.len(), 4096);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 4096);
}

#[test]
fn open_or_create_with_size_zero_is_refused_and_creates_nothing() {
    let dir = tempdir();
    let p = path(&dir, "zero.bin");
    assert!(is_zero_size(
        &MemoryMappedFile::open_or_create(&p, 0).unwrap_err()
    ));
    assert!(!p.exists());
}

#[test]
fn concurrent_open_or_create_never_loses_a_write() {
    // Many threads race to open-or-create one file and each writes its own byte;
    // nobody may truncate what another already wrote.
    for round in 0..20 {
        let dir = tempdir();
        let p = path(&dir, &format!("race-{round}.bin"));
        let threads: Vec<_> = (0..8u8)
            .map(|i| {
                let p = p.clone();
                std::thread::spawn(move || {
                    let mmap = MemoryMappedFile::open_or_create(&p, 64).unwrap();
                    mmap.update_region(u64::from(i), &[i + 1]).unwrap();
                    mmap.flush().unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let bytes = read_file(&p);
        assert_eq!(bytes.len(), 64);
        assert_eq!(&bytes[..8], &[1, 2, 3, 4, 5, 6, 7, 8], "round {round}");
    }
}

#[test]
fn from_file_maps_in_each_mode() {
    let dir = tempdir();
    let bytes = pattern(256, 2);
    let p = file_with(&dir, "ff.bin", &bytes);

    let ro = MemoryMappedFile::from_file(std::fs::File::open(&p).unwrap(), MmapMode::ReadOnly, &p)
        .unwrap();
    assert_eq!(ro.as_slice(0, 256).unwrap(), bytes.as_slice());
    assert_eq!(ro.path(), p);

    let file = OpenOptions::new().read(true).write(true).open(&p).unwrap();
    let rw = MemoryMappedFile::from_file(file, MmapMode::ReadWrite, &p).unwrap();
    rw.update_region(0, b"xy").unwrap();
    rw.flush().unwrap();
    assert_eq!(&read_file(&p)[..2], b"xy");
}

#[test]
fn from_file_read_write_on_a_read_only_handle_is_an_io_error() {
    let dir = tempdir();
    let bytes = pattern(256, 4);
    let p = file_with(&dir, "ro-handle.bin", &bytes);
    let err =
        MemoryMappedFile::from_file(std::fs::File::open(&p).unwrap(), MmapMode::ReadWrite, &p)
            .unwrap_err();
    assert!(matches!(err, MmapIoError::Io(_)), "{err}");
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn builder_honours_the_mode_on_every_path() {
    let dir = tempdir();
    let p = path(&dir, "mode.bin");
    let created = MemoryMappedFile::builder(&p)
        .mode(MmapMode::ReadWrite)
        .size(128)
        .create()
        .unwrap();
    assert_eq!(created.mode(), MmapMode::ReadWrite);
    let opened = MemoryMappedFile::builder(&p)
        .mode(MmapMode::ReadWrite)
        .open()
        .unwrap();
    assert_eq!(opened.mode(), MmapMode::ReadWrite);
    // Read-only builds open the existing file on every path (tests/parity.rs has more).
    for ro in [
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::ReadOnly)
            .open(),
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::ReadOnly)
            .size(1)
            .create(),
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::ReadOnly)
            .size(1)
            .open_or_create(),
    ] {
        let ro = ro.unwrap();
        assert_eq!((ro.mode(), ro.len()), (MmapMode::ReadOnly, 128));
        assert!(ro.update_region(0, b"x").is_err());
    }
}

#[test]
fn builder_honours_the_flush_policy_on_every_path() {
    let dir = tempdir();
    let p = path(&dir, "policy.bin");
    let policy = FlushPolicy::EveryWrites(2);
    let builds: [&dyn Fn() -> MemoryMappedFile; 3] = [
        &|| {
            MemoryMappedFile::builder(&p)
                .size(4096)
                .flush_policy(policy)
                .create()
                .unwrap()
        },
        &|| {
            MemoryMappedFile::builder(&p)
                .mode(MmapMode::ReadWrite)
                .flush_policy(policy)
                .open()
                .unwrap()
        },
        &|| {
            MemoryMappedFile::builder(&p)
                .size(4096)
                .flush_policy(policy)
                .open_or_create()
                .unwrap()
        },
    ];
    for build in builds {
        let mmap = build();
        assert_eq!(mmap.flush_policy(), policy);
        mmap.update_region(0, b"a").unwrap();
        assert_eq!(mmap.pending_bytes(), 1);
        mmap.update_region(1, b"b").unwrap();
        assert_eq!(mmap.pending_bytes(), 0, "the second write must flush");
    }
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn builder_honours_eager_touch_on_every_path() {
    let dir = tempdir();
    let p = path(&dir, "eager.bin");
    let size = 4 << 20;
    std::fs::write(&p, vec![1u8; size]).unwrap();
    // Written back, so that dirty pages can only come from the mapping.
    std::fs::File::open(&p).unwrap().sync_all().unwrap();
    let lazy = MemoryMappedFile::builder(&p)
        .mode(MmapMode::ReadOnly)
        .open()
        .unwrap();
    assert!(
        resident_kb(&lazy) < 1024,
        "a lazy mapping starts out not resident"
    );
    drop(lazy);

    let opened = || {
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::ReadOnly)
            .touch_hint(TouchHint::Eager)
            .open()
            .unwrap()
    };
    let either = || {
        MemoryMappedFile::builder(&p)
            .size(1)
            .touch_hint(TouchHint::Eager)
            .open_or_create()
            .unwrap()
    };
    let created = || {
        MemoryMappedFile::builder(path(&dir, "eager-new.bin"))
            .size(size as u64)
            .touch_hint(TouchHint::Eager)
            .create()
            .unwrap()
    };
    for build in [&opened as &dyn Fn() -> MemoryMappedFile, &either, &created] {
        let mmap = build();
        assert!(
            resident_kb(&mmap) >= (size as u64 / 1024) * 9 / 10,
            "an eager mapping is resident after construction"
        );
        assert_eq!(common::dirty_kb(&mmap), 0, "touching must not dirty pages");
    }
}

#[cfg(not(feature = "cow"))]
#[test]
fn copy_on_write_without_the_feature_is_an_invalid_mode() {
    let dir = tempdir();
    let bytes = pattern(64, 1);
    let p = file_with(&dir, "cow.bin", &bytes);
    let err = mmap_io::load_mmap(&p, MmapMode::CopyOnWrite).unwrap_err();
    assert!(matches!(err, MmapIoError::InvalidMode(_)), "{err}");
    assert_eq!(read_file(&p), bytes);
    // The mode is refused before the file is looked for.
    let missing = MemoryMappedFile::builder(path(&dir, "missing.bin"))
        .mode(MmapMode::CopyOnWrite)
        .size(64)
        .create();
    assert!(matches!(missing, Err(MmapIoError::InvalidMode(_))));
}

#[test]
fn create_new_creates_a_fresh_read_write_mapping() {
    let dir = tempdir();
    let p = path(&dir, "fresh.bin");
    let mmap = MemoryMappedFile::builder(&p)
        .size(8192)
        .flush_policy(FlushPolicy::Always)
        .create_new()
        .unwrap();
    assert_eq!((mmap.len(), mmap.mode()), (8192, MmapMode::ReadWrite));
    assert_eq!(mmap.flush_policy(), FlushPolicy::Always);
    mmap.update_region(0, b"fresh").unwrap();
    assert_eq!(&read_file(&p)[..5], b"fresh");
}

#[test]
fn create_new_never_touches_an_existing_file() {
    let dir = tempdir();
    let before = pattern(4096, 8);
    let p = file_with(&dir, "taken.bin", &before);
    let _live = MemoryMappedFile::open_ro(&p).unwrap();
    let err = MemoryMappedFile::builder(&p)
        .size(100)
        .create_new()
        .unwrap_err();
    assert!(
        matches!(&err, MmapIoError::Io(e) if e.kind() == ErrorKind::AlreadyExists),
        "{err}"
    );
    assert_eq!(read_file(&p), before);
}

#[test]
fn create_new_checks_mode_and_size_before_the_file_system() {
    let dir = tempdir();
    let p = path(&dir, "checked.bin");
    for mode in [MmapMode::ReadOnly, MmapMode::CopyOnWrite] {
        let err = MemoryMappedFile::builder(&p)
            .mode(mode)
            .size(100)
            .create_new()
            .unwrap_err();
        assert!(
            matches!(err, MmapIoError::InvalidMode(_)),
            "{mode:?}: {err}"
        );
    }
    assert!(matches!(
        MemoryMappedFile::builder(&p).create_new().unwrap_err(),
        MmapIoError::ResizeFailed(m) if m == "Size must be set for create() in ReadWrite mode"
    ));
    assert!(is_zero_size(
        &MemoryMappedFile::builder(&p)
            .size(0)
            .create_new()
            .unwrap_err()
    ));
    assert!(!p.exists());
    // A size the disk cannot hold: created, then removed again.
    let err = MemoryMappedFile::builder(&p)
        .size(UNALLOCATABLE)
        .preallocate(true)
        .create_new()
        .unwrap_err();
    assert!(is_refused_size(&err), "{err}");
    assert!(
        !p.exists(),
        "a file create_new made is removed when sizing fails"
    );
}
