#![cfg(feature = "cow")]
mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::flush::FlushPolicy;
use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode};
use std::fs::File;

#[test]
fn writes_through_every_path_stay_private() {
    let dir = tempdir();
    let bytes = pattern(3 * 4096, 1);
    let p = file_with(&dir, "cow.bin", &bytes);
    let cow = MemoryMappedFile::open_cow_writable(&p).unwrap();
    assert_eq!(cow.mode(), MmapMode::CopyOnWrite);
    assert!(cow.is_cow_writable());
    cow.update_region(0, b"private").unwrap();
    cow.as_slice_mut(4096, 4).unwrap().copy_from_slice(b"mine");
    // SAFETY: in bounds, and nothing else uses the mapping.
    unsafe { cow.as_mut_ptr().unwrap().add(8192).write(0xFF) };
    cow.flush().unwrap();
    cow.flush_range(0, 100).unwrap();

    assert_eq!(cow.as_slice(0, 7).unwrap(), b"private");
    assert_eq!(cow.as_slice(4096, 4).unwrap(), b"mine");
    assert_eq!(read_file(&p), bytes, "the file must not change");
    let other = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(other.as_slice(0, 7).unwrap(), &bytes[..7]);
    assert_eq!(cow.pending_bytes(), 0, "private writes are never pending");
    drop(cow);
    assert_eq!(read_file(&p), bytes, "nor when the mapping goes away");
}

#[test]
fn two_copy_on_write_mappings_do_not_see_each_other() {
    let dir = tempdir();
    let p = file_with(&dir, "two.bin", &[0u8; 64]);
    let a = MemoryMappedFile::open_cow_writable(&p).unwrap();
    let b = MemoryMappedFile::open_cow_writable(&p).unwrap();
    a.update_region(0, b"a").unwrap();
    b.update_region(0, b"b").unwrap();
    assert_eq!(a.as_slice(0, 1).unwrap(), b"a");
    assert_eq!(b.as_slice(0, 1).unwrap(), b"b");
}

#[test]
fn every_constructor_accepts_copy_on_write_read_only_unless_asked() {
    let dir = tempdir();
    let bytes = pattern(256, 2);
    let p = file_with(&dir, "ctor.bin", &bytes);
    let read_only = [
        MemoryMappedFile::open_cow(&p).unwrap(),
        mmap_io::load_mmap(&p, MmapMode::CopyOnWrite).unwrap(),
        MemoryMappedFile::from_file(File::open(&p).unwrap(), MmapMode::CopyOnWrite, &p).unwrap(),
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::CopyOnWrite)
            .open()
            .unwrap(),
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::CopyOnWrite)
            .cow_writable(false)
            .size(10)
            .open_or_create()
            .unwrap(),
    ];
    for cow in &read_only {
        assert_eq!(cow.mode(), MmapMode::CopyOnWrite);
        assert!(!cow.is_cow_writable());
        assert_eq!(cow.as_slice(0, 256).unwrap(), bytes.as_slice());
        assert_eq!(cow.as_slice_bytes(0, 256).unwrap(), bytes.as_slice());
        assert!(matches!(
            cow.update_region(0, b"w"),
            Err(MmapIoError::InvalidMode(_))
        ));
    }
    let writable = [
        MemoryMappedFile::open_cow_writable(&p).unwrap(),
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::CopyOnWrite)
            .cow_writable(true)
            .open()
            .unwrap(),
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::CopyOnWrite)
            .cow_writable(true)
            .size(10)
            .open_or_create()
            .unwrap(),
    ];
    for cow in &writable {
        assert!(cow.is_cow_writable());
        assert_eq!(cow.as_slice(0, 256).unwrap(), bytes.as_slice());
        cow.update_region(0, b"w").unwrap();
        assert_eq!(cow.as_slice(0, 1).unwrap(), b"w");
    }
    // A copy-on-write build never creates the file (tests/parity.rs).
    let created = MemoryMappedFile::builder(path(&dir, "new.bin"))
        .mode(MmapMode::CopyOnWrite)
        .cow_writable(true)
        .size(100)
        .create();
    assert!(matches!(created, Err(MmapIoError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound));
    assert!(!path(&dir, "new.bin").exists());
    assert_eq!(read_file(&p), bytes);
    // The flag means nothing to the other modes.
    let ro = MemoryMappedFile::builder(&p)
        .cow_writable(true)
        .open()
        .unwrap();
    assert!(!ro.is_cow_writable());
    assert_eq!(ro.mode(), MmapMode::ReadOnly);
    let rw = MemoryMappedFile::builder(&p)
        .cow_writable(true)
        .open_or_create()
        .unwrap();
    assert!(!rw.is_cow_writable());
    assert_eq!(rw.mode(), MmapMode::ReadWrite);
}

#[test]
fn resize_is_invalid_mode_and_the_flush_policy_never_writes() {
    let dir = tempdir();
    let bytes = pattern(4096, 3);
    let p = file_with(&dir, "r.bin", &bytes);
    let cow = MemoryMappedFile::builder(&p)
        .mode(MmapMode::CopyOnWrite)
        .cow_writable(true)
        .flush_policy(FlushPolicy::Always)
        .open()
        .unwrap();
    assert!(matches!(cow.resize(8192), Err(MmapIoError::InvalidMode(_))));
    assert!(matches!(cow.resize(0), Err(MmapIoError::InvalidMode(_))));
    cow.update_region(0, b"never reaches the file").unwrap();
    assert_eq!(read_file(&p), bytes);
    assert_eq!(cow.len(), 4096);
    assert_eq!(cow.pending_bytes(), 0);
    cow.flush().unwrap();
    cow.flush_range(0, 4096).unwrap();
    assert!(matches!(
        cow.flush_range(4000, 97),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn a_read_only_copy_on_write_mapping_refuses_every_write_and_lends_bytes() {
    let dir = tempdir();
    let p = file_with(&dir, "ro.bin", &[7u8; 64]);
    let cow = MemoryMappedFile::open_cow(&p).unwrap();
    let plain: &[u8] = cow.as_slice_bytes(0, 6).unwrap();
    let clone = cow.clone();
    let refused = |r: mmap_io::errors::Result<()>| {
        let err = r.unwrap_err();
        assert!(matches!(err, MmapIoError::InvalidMode(_)), "{err}");
        assert!(err.to_string().contains("open_cow_writable"), "{err}");
    };
    refused(cow.update_region(0, b"after!"));
    refused(clone.update_region(10, b"x"));
    refused(cow.as_slice_mut(0, 1).map(drop));
    refused(cow.try_update_region(0, b"x").map(drop));
    refused(cow.try_as_slice_mut(0, 1).map(drop));
    cow.update_region(0, b"").unwrap(); // an empty write is `Ok` in every mode
                                        // SAFETY: the pointer is not used.
    refused(unsafe { cow.as_mut_ptr() }.map(drop));
    #[cfg(feature = "atomic")]
    assert!(matches!(
        cow.atomic_u64(0),
        Err(MmapIoError::InvalidMode(_))
    ));
    #[cfg(feature = "iterator")]
    refused(cow.chunks_mut(8).for_each_mut(|_, _| Ok(())));
    assert!(matches!(cow.resize(128), Err(MmapIoError::InvalidMode(_))));
    cow.flush().unwrap();
    cow.flush_range(0, 64).unwrap();
    assert_eq!(cow.pending_bytes(), 0);
    assert_eq!(plain, [7u8; 6]);
    assert_eq!(read_file(&p), [7u8; 64]);
}

#[test]
fn as_slice_bytes_is_refused_on_a_writable_copy_on_write_mapping() {
    let dir = tempdir();
    let p = file_with(&dir, "w.bin", &[7u8; 64]);
    let cow = MemoryMappedFile::open_cow_writable(&p).unwrap();
    assert!(matches!(
        cow.as_slice_bytes(0, 6),
        Err(MmapIoError::InvalidMode(_))
    ));
    cow.update_region(0, b"still writable").unwrap();
    assert_eq!(cow.as_slice(0, 14).unwrap(), b"still writable");
}

#[cfg(feature = "advise")]
#[test]
fn dont_need_on_a_writable_copy_on_write_mapping_discards_private_bytes_but_not_under_views() {
    use mmap_io::MmapAdvice;
    let dir = tempdir();
    let bytes = pattern(8192, 5);
    let p = file_with(&dir, "dn.bin", &bytes);
    let cow = MemoryMappedFile::open_cow_writable(&p).unwrap();
    cow.update_region(0, b"private").unwrap();
    {
        let view = cow.as_slice(0, 7).unwrap();
        let err = cow.advise(0, 4096, MmapAdvice::DontNeed).unwrap_err();
        assert!(matches!(err, MmapIoError::InvalidMode(_)), "{err}");
        assert_eq!(view, b"private", "a live view never changes");
    }
    #[cfg(feature = "atomic")]
    {
        let counter = cow.atomic_u64(4096).unwrap();
        counter.store(42, std::sync::atomic::Ordering::Relaxed);
        assert!(matches!(
            cow.advise(4096, 8, MmapAdvice::DontNeed),
            Err(MmapIoError::InvalidMode(_))
        ));
        // Elsewhere in the counter's page: the whole page would be discarded, so refused too.
        assert!(matches!(
            cow.advise(4096 + 100, 10, MmapAdvice::DontNeed),
            Err(MmapIoError::InvalidMode(_))
        ));
        assert_eq!(counter.load(std::sync::atomic::Ordering::Relaxed), 42);
        drop(counter);
    }
    cow.advise(0, 0, MmapAdvice::DontNeed).unwrap();
    assert!(matches!(
        cow.advise(8000, 193, MmapAdvice::DontNeed),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert_eq!(cow.as_slice(0, 7).unwrap(), b"private");
    cow.advise(1, 10, MmapAdvice::DontNeed).unwrap();
    // Windows has no way to drop private pages: the hint is a no-op there.
    if cfg!(unix) {
        assert_eq!(
            cow.as_slice(0, 7).unwrap(),
            &bytes[..7],
            "the private copy is gone: the page reads the file again"
        );
    }
    assert_eq!(read_file(&p), bytes);
    // On a read-only copy-on-write mapping there are no private bytes to lose.
    let ro = MemoryMappedFile::open_cow(&p).unwrap();
    ro.advise(0, 8192, MmapAdvice::DontNeed).unwrap();
    assert_eq!(ro.as_slice_bytes(0, 8192).unwrap(), bytes.as_slice());
}

#[test]
fn out_of_range_requests_on_copy_on_write_are_refused() {
    let dir = tempdir();
    let p = file_with(&dir, "oob.bin", &[1u8; 100]);
    let cow = MemoryMappedFile::open_cow_writable(&p).unwrap();
    assert!(matches!(
        cow.update_region(99, b"xy"),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(cow.as_slice(u64::MAX, 1).is_err());
    assert!(cow.as_slice_mut(1, u64::MAX).is_err());
    assert!(cow.flush_range(50, 51).is_err());
    let ro = MemoryMappedFile::open_cow(&p).unwrap();
    assert!(matches!(
        ro.as_slice_bytes(100, 1),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(ro.as_slice(u64::MAX, 1).is_err());
    assert!(ro.flush_range(50, 51).is_err());
    assert!(cow.as_slice(0, 100).unwrap().iter().all(|&b| b == 1));
}

#[test]
fn open_cow_of_a_missing_file_is_not_found() {
    let dir = tempdir();
    let err = MemoryMappedFile::open_cow(path(&dir, "missing.bin")).unwrap_err();
    assert!(matches!(err, MmapIoError::Io(e) if e.kind() == std::io::ErrorKind::NotFound));
}

// Linux only: reads page state from /proc/self/smaps.
#[cfg(target_os = "linux")]
#[test]
fn eager_touch_of_a_copy_on_write_mapping_copies_nothing() {
    let dir = tempdir();
    let p = file_with(&dir, "eager.bin", &pattern(4 << 20, 9));
    for writable in [false, true] {
        let cow = MemoryMappedFile::builder(&p)
            .mode(MmapMode::CopyOnWrite)
            .cow_writable(writable)
            .touch_hint(mmap_io::TouchHint::Eager)
            .open()
            .unwrap();
        // SAFETY: the address is only compared against /proc/self/smaps.
        let addr = unsafe { cow.as_ptr() } as usize;
        assert!(
            common::smaps_kb(addr, "Rss") >= 4096 * 9 / 10,
            "the pages are faulted in (writable: {writable})"
        );
        assert_eq!(
            common::smaps_kb(addr, "Anonymous"),
            0,
            "no page was copied (writable: {writable})"
        );
    }
}
