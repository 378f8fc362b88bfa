mod common;

use common::{file_with, path, pattern, tempdir};
use mmap_io::MemoryMappedFile;
use std::io::{Cursor, ErrorKind, Read, Seek, SeekFrom};

#[test]
fn reads_the_whole_mapping() {
    let dir = tempdir();
    let bytes = pattern(10_000, 6);
    let p = file_with(&dir, "r.bin", &bytes);
    for mmap in [
        MemoryMappedFile::open_ro(&p).unwrap(),
        MemoryMappedFile::open_rw(&p).unwrap(),
    ] {
        let mut out = Vec::new();
        mmap.reader().read_to_end(&mut out).unwrap();
        assert_eq!(out, bytes);
    }
}

#[test]
fn seeks_and_reads_like_a_cursor() {
    let dir = tempdir();
    let bytes = pattern(1000, 7);
    let p = file_with(&dir, "c.bin", &bytes);
    let mmap = MemoryMappedFile::open_ro(&p).unwrap();
    let mut ours = mmap.reader();
    let mut model = Cursor::new(bytes.clone());
    let seeks = [
        SeekFrom::Start(10),
        SeekFrom::Current(5),
        SeekFrom::End(-20),
        SeekFrom::End(0),
        SeekFrom::End(50),
        SeekFrom::Current(-60),
        SeekFrom::Start(2000),
        SeekFrom::Start(0),
        SeekFrom::Current(999),
    ];
    for seek in seeks {
        assert_eq!(
            ours.seek(seek).unwrap(),
            model.seek(seek).unwrap(),
            "{seek:?}"
        );
        let (mut a, mut b) = ([0u8; 37], [0u8; 37]);
        assert_eq!(ours.read(&mut a).unwrap(), model.read(&mut b).unwrap());
        assert_eq!(a, b);
        assert_eq!(ours.position(), model.position());
    }
}

#[test]
fn seeking_before_the_start_is_an_error_and_keeps_the_position() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "neg.bin"), 100).unwrap();
    let mut reader = mmap.reader();
    reader.seek(SeekFrom::Start(50)).unwrap();
    for seek in [
        SeekFrom::Current(-51),
        SeekFrom::End(-101),
        SeekFrom::Current(i64::MIN),
    ] {
        let err = reader.seek(seek).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(reader.position(), 50);
    }
    reader.set_position(u64::MAX);
    assert!(reader.seek(SeekFrom::Current(1)).is_err());
    assert_eq!(reader.read(&mut [0u8; 8]).unwrap(), 0);
}

#[test]
fn reads_past_the_end_return_nothing() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "end.bin"), 10).unwrap();
    let mut reader = mmap.reader();
    reader.set_position(10);
    assert_eq!(reader.read(&mut [0u8; 4]).unwrap(), 0);
    reader.set_position(8);
    assert_eq!(reader.read(&mut [0u8; 4]).unwrap(), 2);
    assert_eq!(reader.position(), 10);
    assert_eq!(reader.read(&mut []).unwrap(), 0);
}

#[test]
fn a_reader_sees_the_mapping_after_a_shrink() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "shrink.bin"), 100).unwrap();
    let mut reader = mmap.reader();
    reader.set_position(60);
    mmap.resize(50).unwrap();
    assert_eq!(reader.read(&mut [0u8; 4]).unwrap(), 0);
    reader.set_position(48);
    assert_eq!(reader.read(&mut [0u8; 4]).unwrap(), 2);
}
