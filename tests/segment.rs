mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::segment::{Segment, SegmentMut};
use mmap_io::{MemoryMappedFile, MmapIoError};
use std::sync::Arc;

fn shared(dir: &tempfile::TempDir, len: u64) -> Arc<MemoryMappedFile> {
    Arc::new(MemoryMappedFile::create_rw(path(dir, "seg.bin"), len).unwrap())
}

#[test]
fn a_segment_views_its_window() {
    let dir = tempdir();
    let bytes = pattern(1000, 3);
    let p = file_with(&dir, "ro.bin", &bytes);
    let mmap = Arc::new(MemoryMappedFile::open_ro(&p).unwrap());
    let seg = Segment::new(Arc::clone(&mmap), 100, 50).unwrap();
    assert_eq!(seg.as_slice().unwrap(), &bytes[100..150]);
    assert_eq!((seg.offset(), seg.len(), seg.is_empty()), (100, 50, false));
    assert_eq!(seg.parent().len(), 1000);
    assert!(seg.is_valid());
    let copy = seg.clone();
    assert_eq!(copy.as_slice().unwrap(), seg.as_slice().unwrap());
    assert!(format!("{seg:?}").contains("Segment"));
}

#[test]
fn segments_outside_the_mapping_are_refused() {
    let dir = tempdir();
    let mmap = shared(&dir, 1000);
    for (offset, len) in [(0, 1001), (1000, 1), (999, 2), (u64::MAX, 1), (1, u64::MAX)] {
        let err = Segment::new(Arc::clone(&mmap), offset, len).unwrap_err();
        assert!(matches!(err, MmapIoError::OutOfBounds { .. }), "{err}");
        assert!(SegmentMut::new(Arc::clone(&mmap), offset, len).is_err());
    }
    assert!(Segment::new(Arc::clone(&mmap), 1000, 0).unwrap().is_empty());
    assert!(SegmentMut::new(Arc::clone(&mmap), 0, 1000).is_ok());
}

#[test]
fn a_mutable_segment_writes_within_its_window() {
    let dir = tempdir();
    let mmap = shared(&dir, 1000);
    let seg = SegmentMut::new(Arc::clone(&mmap), 500, 10).unwrap();
    seg.write(b"0123456789").unwrap();
    seg.write(b"ab").unwrap();
    assert_eq!(mmap.as_slice(500, 10).unwrap(), b"ab23456789");
    seg.as_slice_mut().unwrap()[9] = b'Z';
    assert_eq!(mmap.as_slice(509, 1).unwrap(), b"Z");
    assert_eq!((seg.offset(), seg.len(), seg.is_empty()), (500, 10, false));
    assert!(seg.is_valid());
    assert_eq!(seg.parent().len(), 1000);
}

#[test]
fn a_write_longer_than_the_segment_is_refused_and_writes_nothing() {
    let dir = tempdir();
    let mmap = shared(&dir, 1000);
    mmap.update_region(0, &pattern(1000, 4)).unwrap();
    mmap.flush().unwrap();
    let before = read_file(mmap.path());
    // The window ends well before the mapping does: the write must not spill past it.
    let seg = SegmentMut::new(Arc::clone(&mmap), 100, 8).unwrap();
    let err = seg.write(b"nine byte").unwrap_err();
    assert!(
        matches!(
            err,
            MmapIoError::OutOfBounds {
                offset: 0,
                len: 9,
                total: 8
            }
        ),
        "{err}"
    );
    mmap.flush().unwrap();
    assert_eq!(read_file(mmap.path()), before);
    assert_eq!(mmap.pending_bytes(), 0);
}

#[test]
fn a_mutable_segment_on_a_read_only_mapping_cannot_write() {
    let dir = tempdir();
    let bytes = pattern(100, 5);
    let p = file_with(&dir, "ro.bin", &bytes);
    let mmap = Arc::new(MemoryMappedFile::open_ro(&p).unwrap());
    let seg = SegmentMut::new(mmap, 0, 10).unwrap();
    assert!(matches!(seg.write(b"x"), Err(MmapIoError::InvalidMode(_))));
    assert!(matches!(
        seg.as_slice_mut(),
        Err(MmapIoError::InvalidMode(_))
    ));
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn segments_work_from_several_threads() {
    let dir = tempdir();
    let mmap = shared(&dir, 8 * 64);
    let threads: Vec<_> = (0..8u8)
        .map(|i| {
            let seg = SegmentMut::new(Arc::clone(&mmap), u64::from(i) * 64, 64).unwrap();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    seg.write(&[i; 64]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    for i in 0..8u8 {
        assert_eq!(mmap.as_slice(u64::from(i) * 64, 64).unwrap(), [i; 64]);
    }
}
