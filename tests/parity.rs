//! Behaviour of the published mmap-io 1.1 that code migrating from it relies on: one test
//! per fact of "More facts of 1.1" (builder defaults, what a read-only or copy-on-write
//! builder may do to a file, `open_or_create`'s size check, the reported flush policy, empty
//! copy-on-write files, `Debug` output, zero-length requests, `SegmentMut::write`'s check
//! order, the messages). A live iterator fixing the length is `tests/iterator.rs`.
mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::flush::FlushPolicy;
use mmap_io::segment::{Segment, SegmentMut};
use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode};
use std::io::ErrorKind;
use std::sync::Arc;

const NO_SIZE: &str = "Size must be set for create() in ReadWrite mode";
const ZERO_SIZE: &str = "Size must be greater than zero";
#[cfg(feature = "cow")]
const EMPTY_FILE: &str = "Cannot map zero-length file";

fn is_resize_failed(err: &MmapIoError, message: &str) -> bool {
    matches!(err, MmapIoError::ResizeFailed(m) if m == message)
}

fn is_not_found(err: &MmapIoError) -> bool {
    matches!(err, MmapIoError::Io(e) if e.kind() == ErrorKind::NotFound)
}

fn is_invalid_mode<T>(result: &Result<T, MmapIoError>) -> bool {
    matches!(result, Err(MmapIoError::InvalidMode(_)))
}

// 1. Builder defaults.
#[test]
fn the_builder_opens_read_only_and_creates_read_write_by_default() {
    let dir = tempdir();
    let bytes = pattern(100, 1);
    let existing = file_with(&dir, "existing.bin", &bytes);
    let opened = MemoryMappedFile::builder(&existing).open().unwrap();
    assert_eq!(opened.mode(), MmapMode::ReadOnly);
    assert!(is_invalid_mode(&opened.update_region(0, b"x")));
    drop(opened);

    let created = MemoryMappedFile::builder(path(&dir, "c.bin"))
        .size(64)
        .create()
        .unwrap();
    assert_eq!(created.mode(), MmapMode::ReadWrite);
    let fresh = MemoryMappedFile::builder(path(&dir, "n.bin"))
        .size(64)
        .create_new()
        .unwrap();
    assert_eq!(fresh.mode(), MmapMode::ReadWrite);
    let made = MemoryMappedFile::builder(path(&dir, "o.bin"))
        .size(64)
        .open_or_create()
        .unwrap();
    assert_eq!(made.mode(), MmapMode::ReadWrite);
    let reopened = MemoryMappedFile::builder(&existing)
        .open_or_create()
        .unwrap();
    assert_eq!(
        (reopened.mode(), reopened.len()),
        (MmapMode::ReadWrite, 100)
    );
}

#[test]
fn builder_open_ignores_the_size_in_every_mode() {
    let dir = tempdir();
    let empty = file_with(&dir, "empty.bin", b"");
    let ro = MemoryMappedFile::builder(&empty).size(512).open().unwrap();
    assert_eq!((ro.mode(), ro.len()), (MmapMode::ReadOnly, 0));
    let err = MemoryMappedFile::builder(&empty)
        .mode(MmapMode::ReadWrite)
        .size(512)
        .open()
        .unwrap_err();
    assert!(matches!(err, MmapIoError::ResizeFailed(_)), "{err}");
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);

    let bytes = pattern(100, 2);
    let full = file_with(&dir, "full.bin", &bytes);
    for size in [1, 512, u64::MAX] {
        let rw = MemoryMappedFile::builder(&full)
            .mode(MmapMode::ReadWrite)
            .size(size)
            .open()
            .unwrap();
        assert_eq!(rw.len(), 100);
    }
    assert_eq!(read_file(&full), bytes);
}

// 2. Only a read-write builder creates or sizes a file.
#[test]
fn a_read_only_builder_never_creates_truncates_or_sizes_a_file() {
    let dir = tempdir();
    let bytes = pattern(300, 3);
    let p = file_with(&dir, "keep.bin", &bytes);
    let missing = path(&dir, "missing.bin");
    for size in [None, Some(0), Some(8), Some(4096), Some(u64::MAX)] {
        let builder = || {
            let b = MemoryMappedFile::builder(&p).mode(MmapMode::ReadOnly);
            match size {
                Some(size) => b.size(size),
                None => b,
            }
        };
        for mmap in [builder().create(), builder().open_or_create()] {
            let mmap = mmap.unwrap();
            assert_eq!((mmap.mode(), mmap.len()), (MmapMode::ReadOnly, 300));
            assert_eq!(mmap.as_slice(0, 300).unwrap(), bytes.as_slice());
        }
        assert_eq!(read_file(&p), bytes, "size {size:?}");

        let b = MemoryMappedFile::builder(&missing)
            .mode(MmapMode::ReadOnly)
            .size(size.unwrap_or(64));
        assert!(is_not_found(&b.clone().create().unwrap_err()));
        assert!(is_not_found(&b.open_or_create().unwrap_err()));
        assert!(!missing.exists());
    }
    // An empty file stays empty and maps read-only at length 0.
    let empty = file_with(&dir, "empty.bin", b"");
    let b = MemoryMappedFile::builder(&empty)
        .mode(MmapMode::ReadOnly)
        .size(4096);
    assert_eq!(b.clone().create().unwrap().len(), 0);
    assert_eq!(b.open_or_create().unwrap().len(), 0);
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
}

#[cfg(feature = "cow")]
#[test]
fn a_copy_on_write_builder_never_creates_truncates_or_sizes_a_file() {
    let dir = tempdir();
    let bytes = pattern(300, 4);
    let p = file_with(&dir, "keep.bin", &bytes);
    let cow = || {
        MemoryMappedFile::builder(&p)
            .mode(MmapMode::CopyOnWrite)
            .size(4096)
    };
    let plain = cow().create().unwrap();
    assert_eq!((plain.mode(), plain.len()), (MmapMode::CopyOnWrite, 300));
    assert!(is_invalid_mode(&plain.update_region(0, b"x")));
    let writable = cow().cow_writable(true).open_or_create().unwrap();
    assert!(writable.is_cow_writable());
    writable.update_region(0, b"private").unwrap();
    assert_eq!(writable.as_slice(0, 7).unwrap(), b"private");
    let writable = cow().cow_writable(true).create().unwrap();
    assert_eq!(writable.len(), 300);
    assert_eq!(read_file(&p), bytes);

    let missing = path(&dir, "missing.bin");
    let b = MemoryMappedFile::builder(&missing)
        .mode(MmapMode::CopyOnWrite)
        .size(64);
    assert!(is_not_found(&b.clone().create().unwrap_err()));
    assert!(is_not_found(&b.open_or_create().unwrap_err()));
    assert!(!missing.exists());
}

// 3. open_or_create checks the size only when it needs one.
#[test]
fn open_or_create_maps_an_existing_file_whatever_the_size() {
    let dir = tempdir();
    let bytes = pattern(100, 5);
    let p = file_with(&dir, "existing.bin", &bytes);
    for size in [0, 1, 4096, u64::MAX] {
        let mmap = MemoryMappedFile::open_or_create(&p, size).unwrap();
        assert_eq!(mmap.len(), 100, "size {size}");
        let mmap = MemoryMappedFile::builder(&p)
            .size(size)
            .open_or_create()
            .unwrap();
        assert_eq!(mmap.len(), 100, "size {size}");
    }
    let unsized_ = MemoryMappedFile::builder(&p).open_or_create().unwrap();
    assert_eq!(unsized_.len(), 100);
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn open_or_create_checks_the_size_when_it_creates_or_sizes() {
    let dir = tempdir();
    let missing = path(&dir, "missing.bin");
    let err = MemoryMappedFile::builder(&missing)
        .open_or_create()
        .unwrap_err();
    assert!(is_resize_failed(&err, NO_SIZE), "{err}");
    let err = MemoryMappedFile::open_or_create(&missing, 0).unwrap_err();
    assert!(is_resize_failed(&err, ZERO_SIZE), "{err}");
    let err = MemoryMappedFile::open_or_create(&missing, u64::MAX).unwrap_err();
    assert!(matches!(err, MmapIoError::ResizeFailed(_)), "{err}");
    assert!(!missing.exists());

    let empty = file_with(&dir, "empty.bin", b"");
    let err = MemoryMappedFile::builder(&empty)
        .open_or_create()
        .unwrap_err();
    assert!(is_resize_failed(&err, NO_SIZE), "{err}");
    let err = MemoryMappedFile::open_or_create(&empty, 0).unwrap_err();
    assert!(is_resize_failed(&err, ZERO_SIZE), "{err}");
    let err = MemoryMappedFile::open_or_create(&empty, u64::MAX).unwrap_err();
    assert!(matches!(err, MmapIoError::ResizeFailed(_)), "{err}");
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    assert_eq!(
        MemoryMappedFile::open_or_create(&empty, 64).unwrap().len(),
        64
    );
}

// 4. The flush policy a read-only or copy-on-write mapping reports.
#[test]
fn only_read_write_mappings_report_the_flush_policy_given() {
    let dir = tempdir();
    let p = file_with(&dir, "p.bin", &pattern(64, 6));
    let policy = FlushPolicy::EveryWrites(3);
    let with = |mode| {
        MemoryMappedFile::builder(&p)
            .mode(mode)
            .flush_policy(policy)
            .open()
            .unwrap()
    };
    assert_eq!(with(MmapMode::ReadOnly).flush_policy(), FlushPolicy::Never);
    assert_eq!(with(MmapMode::ReadWrite).flush_policy(), policy);
    #[cfg(feature = "cow")]
    {
        assert_eq!(
            with(MmapMode::CopyOnWrite).flush_policy(),
            FlushPolicy::Never
        );
        let writable = MemoryMappedFile::builder(&p)
            .mode(MmapMode::CopyOnWrite)
            .cow_writable(true)
            .flush_policy(FlushPolicy::Always)
            .open()
            .unwrap();
        assert_eq!(writable.flush_policy(), FlushPolicy::Never);
    }
}

// 5. Copy-on-write refuses empty files.
#[cfg(feature = "cow")]
#[test]
fn every_copy_on_write_constructor_refuses_an_empty_file() {
    let dir = tempdir();
    let p = file_with(&dir, "empty.bin", b"");
    let cow = || MemoryMappedFile::builder(&p).mode(MmapMode::CopyOnWrite);
    let results = [
        MemoryMappedFile::open_cow(&p),
        MemoryMappedFile::open_cow_writable(&p),
        mmap_io::load_mmap(&p, MmapMode::CopyOnWrite),
        MemoryMappedFile::from_file(std::fs::File::open(&p).unwrap(), MmapMode::CopyOnWrite, &p),
        cow().open(),
        cow().cow_writable(true).open(),
        cow().size(64).create(),
        cow().size(64).open_or_create(),
    ];
    for (i, result) in results.into_iter().enumerate() {
        let err = result.unwrap_err();
        assert!(is_resize_failed(&err, EMPTY_FILE), "{i}: {err}");
    }
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 0);
    // Read-only still maps it.
    assert_eq!(MemoryMappedFile::open_ro(&p).unwrap().len(), 0);
}

// 6. Debug output.
#[test]
fn views_print_as_byte_slices() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "d.bin"), 16).unwrap();
    mmap.update_region(0, &[1, 2, 3]).unwrap();
    let view = mmap.as_slice(0, 3).unwrap();
    assert_eq!(format!("{view:?}"), "[1, 2, 3]");
    assert_eq!(format!("{view:#?}"), format!("{:#?}", &[1u8, 2, 3][..]));
    drop(view);
    assert_eq!(format!("{:?}", mmap.as_slice(5, 0).unwrap()), "[]");
    let view = mmap.as_slice_mut(1, 2).unwrap();
    assert_eq!(format!("{view:?}"), "[2, 3]");
    drop(view);
    assert_eq!(format!("{:?}", mmap.as_slice_mut(0, 0).unwrap()), "[]");
}

#[test]
fn a_mapping_prints_its_path_mode_and_length() {
    let dir = tempdir();
    let p = path(&dir, "d.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 64).unwrap();
    let huge = if cfg!(feature = "hugepages") {
        ", huge_pages: false"
    } else {
        ""
    };
    assert_eq!(
        format!("{mmap:?}"),
        format!("MemoryMappedFile {{ path: {p:?}, mode: ReadWrite, len: 64{huge} }}")
    );
    mmap.resize(128).unwrap();
    assert!(format!("{mmap:?}").contains("len: 128"));
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(
        format!("{ro:?}"),
        format!("MemoryMappedFile {{ path: {p:?}, mode: ReadOnly, len: 128{huge} }}")
    );
}

#[cfg(feature = "hugepages")]
#[test]
fn a_mapping_prints_whether_it_asked_for_huge_pages() {
    let dir = tempdir();
    let p = path(&dir, "h.bin");
    let rw = MemoryMappedFile::builder(&p)
        .size(4096)
        .huge_pages(true)
        .create()
        .unwrap();
    assert!(format!("{rw:?}").ends_with("huge_pages: true }"), "{rw:?}");
    let ro = MemoryMappedFile::builder(&p)
        .mode(MmapMode::ReadOnly)
        .huge_pages(true)
        .open()
        .unwrap();
    assert!(format!("{ro:?}").ends_with("huge_pages: false }"), "{ro:?}");
}

// 7. Zero length.
#[test]
fn empty_segments_are_valid_anywhere_and_stay_valid() {
    let dir = tempdir();
    let mmap = Arc::new(MemoryMappedFile::create_rw(path(&dir, "z.bin"), 100).unwrap());
    for offset in [0, 100, 101, 4096, u64::MAX] {
        let seg = Segment::new(Arc::clone(&mmap), offset, 0).unwrap();
        assert!(seg.is_valid() && seg.is_empty());
        assert!(seg.as_slice().unwrap().is_empty());
        let seg = SegmentMut::new(Arc::clone(&mmap), offset, 0).unwrap();
        assert!(seg.is_valid());
        assert!(seg.as_slice_mut().unwrap().is_empty());
        seg.write(&[]).unwrap();
    }
    let kept = SegmentMut::new(Arc::clone(&mmap), 90, 0).unwrap();
    mmap.resize(50).unwrap();
    assert!(kept.is_valid());
    kept.write(&[]).unwrap();
}

#[test]
fn an_empty_write_is_an_ok_no_op_in_every_mode() {
    let dir = tempdir();
    let bytes = pattern(64, 7);
    let p = file_with(&dir, "w.bin", &bytes);
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    #[allow(unused_mut)]
    let mut maps = vec![ro, rw];
    #[cfg(feature = "cow")]
    maps.push(MemoryMappedFile::open_cow(&p).unwrap());
    for mmap in &maps {
        for offset in [0, 64, 65, u64::MAX] {
            mmap.update_region(offset, &[]).unwrap();
            assert!(mmap.try_update_region(offset, &[]).unwrap());
        }
        let seg = SegmentMut::new(Arc::new(mmap.clone()), 8, 8).unwrap();
        seg.write(&[]).unwrap();
        assert_eq!(mmap.pending_bytes(), 0);
    }
    let anon = mmap_io::AnonymousMmap::new(64).unwrap();
    anon.update_region(u64::MAX, &[]).unwrap();
    assert!(anon.try_update_region(u64::MAX, &[]).unwrap());
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn an_empty_try_write_is_ok_while_its_bytes_are_locked() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "l.bin"), 64).unwrap();
    let held = mmap.as_slice_mut(0, 64).unwrap();
    assert!(mmap.try_update_region(0, &[]).unwrap());
    std::thread::scope(|s| {
        s.spawn(|| assert!(mmap.try_update_region(8, &[]).unwrap()));
    });
    drop(held);
}

#[test]
fn an_empty_writable_view_takes_no_bytes() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "e.bin"), 64).unwrap();
    let held = mmap.as_slice(0, 64).unwrap();
    // Inside bytes this thread views: nothing to wait for, nothing refused.
    assert!(mmap.as_slice_mut(8, 0).unwrap().is_empty());
    assert!(mmap.try_as_slice_mut(8, 0).unwrap().unwrap().is_empty());
    let seg = SegmentMut::new(Arc::new(mmap.clone()), 8, 0).unwrap();
    assert!(seg.as_slice_mut().unwrap().is_empty());
    drop(held);
    // Held, it blocks no one.
    let empty = mmap.as_slice_mut(8, 0).unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            assert!(mmap.try_as_slice(0, 64).unwrap().is_some());
            assert!(mmap.try_update_region(0, &[1; 64]).unwrap());
        });
    });
    drop(empty);
    let anon = mmap_io::AnonymousMmap::new(64).unwrap();
    let held = anon.as_slice(0, 64).unwrap();
    assert!(anon.try_as_mut_slice(8, 0).unwrap().unwrap().is_empty());
    drop(held);
}

#[test]
fn empty_writable_views_of_a_read_only_mapping_stay_invalid_mode() {
    let dir = tempdir();
    let p = file_with(&dir, "r.bin", &pattern(64, 8));
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    assert!(is_invalid_mode(&ro.as_slice_mut(0, 0)));
    assert!(is_invalid_mode(&ro.as_slice_mut(u64::MAX, 0)));
    assert!(is_invalid_mode(&ro.try_as_slice_mut(0, 0)));
    #[cfg(feature = "iterator")]
    assert!(is_invalid_mode(
        &ro.chunks_mut(0).for_each_mut(|_, _| Ok(()))
    ));
}

#[cfg(feature = "atomic")]
#[test]
fn empty_atomic_slices_check_mode_alignment_then_bounds() {
    let dir = tempdir();
    let p = file_with(&dir, "a.bin", &pattern(64, 9));
    let rw = MemoryMappedFile::open_rw(&p).unwrap();
    assert!(rw.atomic_u64_slice(64, 0).unwrap().is_empty());
    assert!(rw.atomic_u32_slice(60, 0).unwrap().is_empty());
    for offset in [72, 4096, u64::MAX - 7] {
        let err = rw.atomic_u64_slice(offset, 0).unwrap_err();
        assert!(
            matches!(err, MmapIoError::OutOfBounds { offset: o, len: 0, total: 64 } if o == offset),
            "{err}"
        );
    }
    let err = rw.atomic_u32_slice(68, 0).unwrap_err();
    assert!(
        matches!(
            err,
            MmapIoError::OutOfBounds {
                offset: 68,
                len: 0,
                total: 64
            }
        ),
        "{err}"
    );
    // Alignment before bounds, mode before alignment.
    let err = rw.atomic_u64_slice(u64::MAX, 0).unwrap_err();
    assert!(
        matches!(err, MmapIoError::Misaligned { required: 8, .. }),
        "{err}"
    );
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    assert!(is_invalid_mode(&ro.atomic_u64_slice(u64::MAX, 0)));
    let anon = mmap_io::AnonymousMmap::new(64).unwrap();
    assert!(anon.atomic_u64_slice(64, 0).unwrap().is_empty());
    assert!(matches!(
        anon.atomic_u64_slice(128, 0),
        Err(MmapIoError::OutOfBounds {
            offset: 128,
            len: 0,
            total: 64
        })
    ));
}

// 8. SegmentMut::write's check order and error fields.
#[test]
fn segment_writes_check_length_then_emptiness_then_mode_then_fit() {
    let dir = tempdir();
    let bytes = pattern(100, 10);
    let p = file_with(&dir, "s.bin", &bytes);
    // Too long comes first, even on a read-only mapping: segment-relative fields.
    let ro = Arc::new(MemoryMappedFile::open_ro(&p).unwrap());
    let seg = SegmentMut::new(Arc::clone(&ro), 10, 4).unwrap();
    let err = seg.write(b"12345").unwrap_err();
    assert!(
        matches!(
            err,
            MmapIoError::OutOfBounds {
                offset: 0,
                len: 5,
                total: 4
            }
        ),
        "{err}"
    );
    seg.write(&[]).unwrap();
    assert!(is_invalid_mode(&seg.write(b"1234")));
    drop((seg, ro));

    // A segment a shrink cut: parent-relative fields, nothing written.
    let rw = Arc::new(MemoryMappedFile::open_rw(&p).unwrap());
    let seg = SegmentMut::new(Arc::clone(&rw), 40, 20).unwrap();
    rw.resize(50).unwrap();
    assert!(!seg.is_valid());
    let err = seg.write(b"ab").unwrap_err();
    assert!(
        matches!(
            err,
            MmapIoError::OutOfBounds {
                offset: 40,
                len: 20,
                total: 50
            }
        ),
        "{err}"
    );
    let err = seg.write(&[0; 21]).unwrap_err();
    assert!(
        matches!(
            err,
            MmapIoError::OutOfBounds {
                offset: 0,
                len: 21,
                total: 20
            }
        ),
        "{err}"
    );
    seg.write(&[]).unwrap();
    // Also where this thread views bytes the write would touch: the cut is reported.
    let view = rw.as_slice(40, 5).unwrap();
    let err = seg.write(b"ab").unwrap_err();
    assert!(
        matches!(
            err,
            MmapIoError::OutOfBounds {
                offset: 40,
                len: 20,
                total: 50
            }
        ),
        "{err}"
    );
    drop(view);
    assert_eq!(rw.as_slice(40, 10).unwrap(), &bytes[40..50]);
    assert_eq!(rw.pending_bytes(), 0);
}

// 10. Messages.
#[test]
fn a_read_write_create_without_a_size_says_so_as_1_1_does() {
    let dir = tempdir();
    let p = path(&dir, "nosize.bin");
    let b = MemoryMappedFile::builder(&p);
    for err in [
        b.clone().create().unwrap_err(),
        b.clone().create_new().unwrap_err(),
        b.open_or_create().unwrap_err(),
    ] {
        assert!(is_resize_failed(&err, NO_SIZE), "{err}");
    }
    assert!(!p.exists());
}
