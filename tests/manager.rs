mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::{
    copy_mmap, create_mmap, delete_mmap, flush, load_mmap, update_region, write_mmap, MmapIoError,
    MmapMode,
};
use std::io::ErrorKind;

#[test]
fn the_round_trip_of_the_published_docs_works() {
    let dir = tempdir();
    let p = path(&dir, "data.bin");
    let mmap = create_mmap(&p, 1024 * 1024).unwrap();
    update_region(&mmap, 100, b"Hello, mmap!").unwrap();
    flush(&mmap).unwrap();
    let ro = load_mmap(&p, MmapMode::ReadOnly).unwrap();
    assert_eq!(ro.as_slice(100, 12).unwrap(), b"Hello, mmap!");
}

#[test]
fn load_mmap_maps_in_the_requested_mode() {
    let dir = tempdir();
    let p = file_with(&dir, "m.bin", &pattern(64, 1));
    assert_eq!(
        load_mmap(&p, MmapMode::ReadOnly).unwrap().mode(),
        MmapMode::ReadOnly
    );
    assert_eq!(
        load_mmap(&p, MmapMode::ReadWrite).unwrap().mode(),
        MmapMode::ReadWrite
    );
}

#[test]
fn update_region_on_a_read_only_map_is_refused() {
    let dir = tempdir();
    let bytes = pattern(64, 2);
    let p = file_with(&dir, "ro.bin", &bytes);
    let ro = load_mmap(&p, MmapMode::ReadOnly).unwrap();
    assert!(matches!(
        update_region(&ro, 0, b"x"),
        Err(MmapIoError::InvalidMode(_))
    ));
    flush(&ro).unwrap();
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn copy_and_delete_work_on_files() {
    let dir = tempdir();
    let (src, dst) = (path(&dir, "src.bin"), path(&dir, "dst.bin"));
    let mmap = create_mmap(&src, 4096).unwrap();
    update_region(&mmap, 0, b"copied").unwrap();
    flush(&mmap).unwrap();
    copy_mmap(&src, &dst).unwrap();
    assert_eq!(&read_file(&dst)[..6], b"copied");
    drop(mmap);
    delete_mmap(&src).unwrap();
    assert!(!src.exists());
    let err = delete_mmap(&src).unwrap_err();
    assert!(matches!(err, MmapIoError::Io(e) if e.kind() == ErrorKind::NotFound));
    let err = copy_mmap(&src, &dst).unwrap_err();
    assert!(matches!(err, MmapIoError::Io(e) if e.kind() == ErrorKind::NotFound));
    assert_eq!(
        &read_file(&dst)[..6],
        b"copied",
        "a failed copy leaves dst alone"
    );
}

#[test]
fn write_mmap_writes_durably_within_the_file() {
    let dir = tempdir();
    let p = file_with(&dir, "w.bin", &[0u8; 16]);
    write_mmap(&p, 4, b"data").unwrap();
    assert_eq!(&read_file(&p)[4..8], b"data");
}

#[test]
fn write_mmap_refuses_bad_input_and_leaves_the_file_intact() {
    let dir = tempdir();
    let bytes = pattern(16, 3);
    let p = file_with(&dir, "w.bin", &bytes);
    assert!(matches!(
        write_mmap(&p, 10, b"too long"),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(write_mmap(&p, u64::MAX, b"x").is_err());
    assert_eq!(read_file(&p), bytes);
    let missing = path(&dir, "missing.bin");
    assert!(matches!(
        write_mmap(&missing, 0, b"x"),
        Err(MmapIoError::Io(e)) if e.kind() == ErrorKind::NotFound
    ));
    assert!(!missing.exists());
}

#[test]
fn copy_mmap_never_cuts_a_file_a_live_handle_maps() {
    let dir = tempdir();
    let (src, dst) = (path(&dir, "short.bin"), path(&dir, "mapped.bin"));
    std::fs::write(&src, b"tiny").unwrap();
    let mapped = create_mmap(&dst, 1 << 20).unwrap();
    update_region(&mapped, (1 << 20) - 4, b"tail").unwrap();
    flush(&mapped).unwrap();

    let err = copy_mmap(&src, &dst).unwrap_err();
    assert!(matches!(err, MmapIoError::ResizeFailed(_)), "{err}");
    assert_eq!(std::fs::metadata(&dst).unwrap().len(), 1 << 20);
    let bytes = read_file(&dst);
    assert_eq!(&bytes[..4], &[0; 4], "a refused copy leaves dst alone");
    assert_eq!(&bytes[(1 << 20) - 4..], b"tail");
    // The handle still reads its last page (a cut file would raise SIGBUS here).
    assert_eq!(mapped.as_slice((1 << 20) - 4, 4).unwrap(), b"tail");

    // A source at least as long as what the handle maps is copied over it.
    let long = path(&dir, "long.bin");
    let pattern: Vec<u8> = (0..(2u32 << 20)).map(|i| (i % 251) as u8).collect();
    std::fs::write(&long, &pattern).unwrap();
    copy_mmap(&long, &dst).unwrap();
    assert_eq!(read_file(&dst), pattern);
    assert_eq!(mapped.as_slice(0, 4).unwrap(), &pattern[..4]);

    // Once the handle is gone, a shorter copy cuts dst to the source's length.
    drop(mapped);
    copy_mmap(&src, &dst).unwrap();
    assert_eq!(read_file(&dst), b"tiny");
}

#[test]
fn copy_mmap_of_a_file_onto_itself_keeps_its_bytes() {
    let dir = tempdir();
    let p = file_with(&dir, "self.bin", b"unchanged");
    copy_mmap(&p, &p).unwrap();
    assert_eq!(read_file(&p), b"unchanged");
}

/// A source whose reported length is not what it holds (`/proc` reports 0 bytes, `/sys`
/// 4096) is copied as read, as `std::fs::copy` does: never cut to the reported length nor
/// padded with zeros to it. (The same holds for a source cut or grown while it is copied.)
#[cfg(target_os = "linux")]
#[test]
fn copy_mmap_copies_what_it_reads_whatever_length_the_source_reported() {
    let dir = tempdir();
    let sources = [
        "/proc/version",
        "/sys/kernel/mm/transparent_hugepage/enabled",
        "/sys/devices/system/cpu/online",
    ];
    let mut copied = 0;
    for src in sources.map(std::path::Path::new) {
        let Ok(want) = std::fs::read(src) else {
            println!("skipped {}: not readable here", src.display());
            continue;
        };
        let reported = std::fs::metadata(src).unwrap().len();
        let dst = path(&dir, "copy.bin");
        copy_mmap(src, dst.as_path()).unwrap();
        assert_eq!(
            read_file(&dst),
            want,
            "{} (reported {reported} bytes)",
            src.display()
        );
        copied += 1;
    }
    assert!(
        copied > 0,
        "no source to copy: /proc is always there on Linux"
    );
}

#[cfg(unix)]
#[test]
fn delete_frees_the_name_of_a_mapped_file_at_once() {
    let dir = tempdir();
    let p = path(&dir, "live.bin");
    let mmap = create_mmap(&p, 4096).unwrap();
    update_region(&mmap, 0, b"old").unwrap();
    delete_mmap(&p).unwrap();
    assert!(!p.exists());
    // A new file takes the name while the old one is still mapped.
    std::fs::write(&p, b"new").unwrap();
    assert_eq!(mmap.as_slice(0, 3).unwrap(), b"old");
    update_region(&mmap, 0, b"OLD").unwrap();
    flush(&mmap).unwrap();
    assert_eq!(read_file(&p), b"new");
}
