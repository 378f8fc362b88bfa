//! Typed views of plain-old-data: records read and written in place, on files and anonymous
//! maps, with the guard of a byte view, and errors (never a panic) for misaligned offsets
//! and ranges past the end.
#![cfg(feature = "pod")]
mod common;

use bytemuck::{Pod, Zeroable};
use common::{path, read_file, tempdir, write_waits};
use mmap_io::{AnonymousMmap, MemoryMappedFile, MmapIoError};

#[derive(Clone, Copy, Debug, PartialEq, Pod, Zeroable)]
#[repr(C)]
struct Header {
    magic: [u8; 4],
    version: u32,
    records: u64,
}

fn file(len: u64) -> (tempfile::TempDir, std::path::PathBuf, MemoryMappedFile) {
    let dir = tempdir();
    let p = path(&dir, "records.bin");
    let mmap = MemoryMappedFile::create_rw(&p, len).unwrap();
    (dir, p, mmap)
}

#[test]
fn records_are_read_and_written_in_place_and_reach_the_file() {
    let (_dir, p, mmap) = file(4096);
    {
        let mut header = mmap.as_pod_mut::<Header>(0).unwrap();
        *header = Header {
            magic: *b"MMDB",
            version: 3,
            records: 2,
        };
        let mut index = mmap.as_mut_slice_of::<u64>(64, 2).unwrap();
        index.copy_from_slice(&[100, 200]);
    }
    mmap.flush().unwrap();
    let bytes = read_file(&p);
    assert_eq!(&bytes[..4], b"MMDB");
    assert_eq!(bytes[4..8], 3u32.to_ne_bytes());
    assert_eq!(bytes[64..72], 100u64.to_ne_bytes());
    // Read back typed, through another handle too.
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    let header = ro.as_pod::<Header>(0).unwrap();
    assert_eq!((header.version, header.records), (3, 2));
    assert_eq!(&*ro.as_slice_of::<u64>(64, 2).unwrap(), &[100, 200]);
    assert_eq!(
        format!("{:?}", ro.as_slice_of::<u64>(64, 1).unwrap()),
        "[100]"
    );
}

#[test]
fn misaligned_offsets_and_ranges_past_the_end_are_errors_and_touch_nothing() {
    let (_dir, p, mmap) = file(4096);
    mmap.update_region(0, &[7; 4096]).unwrap();
    mmap.flush().unwrap();
    // `u64` (and so `Header`) is aligned to 8 on 64-bit targets, to 4 on i686.
    let align = std::mem::align_of::<u64>() as u64;
    let misaligned = |r: Result<(), MmapIoError>, offset| {
        assert!(
            matches!(r, Err(MmapIoError::Misaligned { required, offset: o })
                if o == offset && required == align),
            "{r:?}"
        );
    };
    misaligned(mmap.as_pod::<u64>(2).map(drop), 2);
    misaligned(mmap.as_slice_of::<u64>(10, 2).map(drop), 10);
    misaligned(mmap.as_pod_mut::<Header>(1).map(drop), 1);
    misaligned(mmap.as_mut_slice_of::<u64>(4094, 1).map(drop), 4094);
    let out = |r: Result<(), MmapIoError>| {
        assert!(matches!(r, Err(MmapIoError::OutOfBounds { .. })), "{r:?}");
    };
    out(mmap.as_pod::<u64>(4096).map(drop));
    out(mmap.as_pod::<Header>(4088).map(drop));
    out(mmap.as_slice_of::<u64>(0, 513).map(drop));
    out(mmap.as_slice_of::<u64>(8, usize::MAX).map(drop));
    out(mmap.as_mut_slice_of::<u32>(4, usize::MAX / 2).map(drop));
    out(mmap.as_pod_mut::<u64>(u64::MAX - 7).map(drop));
    assert_eq!(read_file(&p), vec![7; 4096], "nothing was written");
    // Views of no bytes are valid at any aligned offset, as empty byte views are.
    assert!(mmap.as_slice_of::<u64>(4096, 0).unwrap().is_empty());
    assert!(mmap.as_slice_of::<u64>(u64::MAX - 7, 0).unwrap().is_empty());
    let _unit = mmap.as_pod::<()>(1 << 40).unwrap();
    // A type aligned to more than a page: aligned where the address is, never unaligned.
    #[derive(Clone, Copy, Pod, Zeroable)]
    #[repr(C, align(8192))]
    struct Big([[u8; 4096]; 2]);
    for offset in [0, 8192] {
        match mmap.as_pod::<Big>(offset) {
            Ok(big) => assert_eq!(&*big as *const Big as usize % 8192, 0),
            Err(e) => assert!(
                matches!(
                    e,
                    MmapIoError::Misaligned { required: 8192, .. }
                        | MmapIoError::OutOfBounds { .. }
                ),
                "{e}"
            ),
        }
    }
}

#[test]
fn typed_views_take_the_guard_of_their_bytes() {
    let (_dir, p, mmap) = file(4096);
    let header = mmap.as_pod::<Header>(0).unwrap();
    assert!(write_waits(&mmap, 8), "a write of the viewed bytes waits");
    assert!(!write_waits(&mmap, 16), "bytes past the view stay free");
    // On the thread that holds it, a write of its bytes is refused instead of waiting.
    assert!(matches!(
        mmap.update_region(0, b"x"),
        Err(MmapIoError::InvalidMode(_))
    ));
    drop(header);
    let mut counter = mmap.as_pod_mut::<u64>(64).unwrap();
    *counter += 5;
    assert!(write_waits(&mmap, 64));
    drop(counter);
    assert_eq!(*mmap.as_pod::<u64>(64).unwrap(), 5);
    // Read-only mappings give read-only views.
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    assert!(matches!(
        ro.as_pod_mut::<u64>(0),
        Err(MmapIoError::InvalidMode(_))
    ));
}

#[test]
fn anonymous_maps_have_typed_views_too() {
    let scratch = AnonymousMmap::new(4096).unwrap();
    scratch
        .as_mut_slice_of::<u32>(16, 4)
        .unwrap()
        .copy_from_slice(&[1, 2, 3, 4]);
    assert_eq!(&*scratch.as_slice_of::<u32>(16, 4).unwrap(), &[1, 2, 3, 4]);
    assert_eq!(*scratch.as_pod::<u32>(20).unwrap(), 2);
    assert!(matches!(
        scratch.as_pod::<u32>(2),
        Err(MmapIoError::Misaligned { required: 4, .. })
    ));
    // A typed view moves to another thread with its guard.
    let view = scratch.as_pod::<u32>(24).unwrap();
    std::thread::scope(|s| {
        s.spawn(move || assert_eq!(*view, 3));
    });
}

#[cfg(feature = "atomic")]
#[test]
fn typed_views_and_atomic_views_of_the_same_bytes_refuse_each_other() {
    let (_dir, _p, mmap) = file(4096);
    let _atomic = mmap.atomic_u64(8).unwrap();
    assert!(matches!(
        mmap.as_pod::<Header>(0),
        Err(MmapIoError::InvalidMode(_))
    ));
    assert_eq!(*mmap.as_pod::<u64>(16).unwrap(), 0, "other bytes are free");
}

#[test]
fn typed_views_are_send_and_sync_as_the_byte_views_are() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<mmap_io::pod::MappedRef<'static, Header>>();
    send_sync::<mmap_io::pod::MappedRef<'static, [u64]>>();
    send_sync::<mmap_io::pod::MappedMut<'static, Header>>();
    send_sync::<mmap_io::pod::MappedMut<'static, [u32]>>();
}

#[test]
fn typed_views_work_through_an_arc_and_count_their_writes() {
    let (_dir, _p, mmap) = file(4096);
    let shared = std::sync::Arc::new(mmap);
    *shared.as_pod_mut::<u64>(8).unwrap() = 42;
    assert_eq!(*shared.as_pod::<u64>(8).unwrap(), 42);
    assert_eq!(shared.as_slice_of::<u64>(8, 1).unwrap()[0], 42);
    assert_eq!(
        shared.pending_bytes(),
        8,
        "the writable view counted its bytes"
    );
}
