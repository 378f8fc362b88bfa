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

// --- BufRead ---

/// A log of `n` numbered lines.
fn log_lines(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| format!("record {i} {}\n", "x".repeat(i % 97)).into_bytes())
        .collect()
}

#[test]
fn lines_read_until_and_split_run_on_every_mode() {
    use std::io::BufRead;
    let dir = tempdir();
    let log = log_lines(2000);
    let p = file_with(&dir, "log.txt", &log);
    let expected: Vec<String> = Cursor::new(&log).lines().map(Result::unwrap).collect();
    #[allow(unused_mut)] // extended with the `cow` feature
    let mut maps = vec![
        MemoryMappedFile::open_ro(&p).unwrap(),
        MemoryMappedFile::open_rw(&p).unwrap(),
    ];
    #[cfg(feature = "cow")]
    maps.extend([
        MemoryMappedFile::open_cow(&p).unwrap(),
        MemoryMappedFile::open_cow_writable(&p).unwrap(),
    ]);
    for mmap in &maps {
        let lines: Vec<String> = mmap.reader().lines().map(Result::unwrap).collect();
        assert_eq!(lines, expected, "{:?}", mmap.mode());
        let split: Vec<Vec<u8>> = mmap.reader().split(b' ').map(Result::unwrap).collect();
        let want: Vec<Vec<u8>> = Cursor::new(&log).split(b' ').map(Result::unwrap).collect();
        assert_eq!(split, want);
        let mut reader = mmap.reader();
        reader.seek(SeekFrom::Start(5000)).unwrap();
        let mut line = Vec::new();
        reader.read_until(b'\n', &mut line).unwrap();
        let mut cursor = Cursor::new(&log);
        cursor.seek(SeekFrom::Start(5000)).unwrap();
        let mut want = Vec::new();
        cursor.read_until(b'\n', &mut want).unwrap();
        assert_eq!(line, want);
        assert_eq!(reader.position(), cursor.position());
    }
}

#[test]
fn fill_buf_on_a_read_only_mapping_copies_and_lends_nothing() {
    use std::io::BufRead;
    let dir = tempdir();
    let bytes = pattern(3 * 4096 + 7, 2);
    let p = file_with(&dir, "copied.bin", &bytes);
    let mmap = MemoryMappedFile::open_ro(&p).unwrap();
    let writer = MemoryMappedFile::open_rw(&p).unwrap();
    // SAFETY: the address is only compared.
    let base = unsafe { mmap.as_ptr() };
    let mut reader = mmap.reader();
    reader.consume(100);
    let rest = reader.fill_buf().unwrap();
    assert_eq!(rest, &bytes[100..4196], "up to 4 KiB at a time");
    assert_ne!(
        rest.as_ptr(),
        base.wrapping_add(100),
        "a copy, which a cut file cannot fault"
    );
    // Nothing is lent: a write of those bytes through another handle goes through.
    writer.update_region(100, b"new").unwrap();
    reader.consume(4096);
    assert_eq!(reader.fill_buf().unwrap(), &bytes[4196..8292]);
    reader.set_position(u64::MAX);
    assert!(reader.fill_buf().unwrap().is_empty());
}

#[test]
fn fill_buf_on_a_writable_mapping_holds_no_lock_between_calls() {
    use std::io::BufRead;
    let dir = tempdir();
    let bytes = pattern(10_000, 4);
    let p = file_with(&dir, "rw.bin", &bytes);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    let mut reader = mmap.reader();
    let first = reader.fill_buf().unwrap();
    assert_eq!(first, &bytes[..4096], "at most 4 KiB at a time");
    reader.consume(4000);
    // A write between calls neither waits nor is refused: the reader holds nothing.
    mmap.update_region(9000, b"new").unwrap();
    assert_eq!(reader.fill_buf().unwrap(), &bytes[4000..4096]);
    reader.consume(96);
    assert_eq!(reader.fill_buf().unwrap(), &bytes[4096..8192]);
    reader.seek(SeekFrom::Start(9000)).unwrap();
    assert_eq!(&reader.fill_buf().unwrap()[..3], b"new");
    reader.seek(SeekFrom::End(0)).unwrap();
    assert!(reader.fill_buf().unwrap().is_empty());
}

#[test]
fn a_reader_has_no_drop_glue() {
    assert!(!std::mem::needs_drop::<mmap_io::mmap::MmapReader<'static>>());
    // So the mapping may go once the reader is no longer used.
    let dir = tempdir();
    let p = file_with(&dir, "glue.bin", b"abc");
    let mmap = MemoryMappedFile::open_ro(&p).unwrap();
    let mut reader = mmap.reader();
    let mut byte = [0u8];
    reader.read_exact(&mut byte).unwrap();
    drop(mmap);
    assert_eq!(byte, *b"a");
}

mod buf_read_model {
    use super::*;
    use proptest::prelude::*;
    use std::io::BufRead;

    #[derive(Debug, Clone)]
    enum Op {
        Read(usize),
        FillConsume(usize),
        Seek(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..6000).prop_map(Op::Read),
            (0usize..6000).prop_map(Op::FillConsume),
            (0u64..12_000).prop_map(Op::Seek),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn reads_fills_and_seeks_agree_with_a_cursor(
            len in 1usize..10_000,
            writable in any::<bool>(),
            ops in prop::collection::vec(op(), 1..30),
        ) {
            let dir = tempdir();
            let bytes = pattern(len, 9);
            let p = file_with(&dir, "model.bin", &bytes);
            let mmap = if writable {
                MemoryMappedFile::open_rw(&p).unwrap()
            } else {
                MemoryMappedFile::open_ro(&p).unwrap()
            };
            let mut reader = mmap.reader();
            let mut cursor = Cursor::new(bytes.clone());
            for op in ops {
                match op {
                    Op::Read(n) => {
                        let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
                        let got = reader.read(&mut a).unwrap();
                        prop_assert!(got > 0 || n == 0 || cursor.position() >= len as u64);
                        cursor.read_exact(&mut b[..got]).unwrap();
                        prop_assert_eq!(&a[..got], &b[..got]);
                    }
                    Op::FillConsume(n) => {
                        let want = cursor.fill_buf().unwrap().to_vec();
                        let got = reader.fill_buf().unwrap().to_vec();
                        prop_assert!(want.starts_with(&got));
                        prop_assert_eq!(got.is_empty(), want.is_empty());
                        let amt = n.min(got.len());
                        reader.consume(amt);
                        cursor.consume(amt);
                    }
                    Op::Seek(pos) => {
                        prop_assert_eq!(
                            reader.seek(SeekFrom::Start(pos)).unwrap(),
                            cursor.seek(SeekFrom::Start(pos)).unwrap()
                        );
                    }
                }
                prop_assert_eq!(reader.position(), cursor.position());
            }
        }
    }
}
