//! Every range API, called with offsets and lengths at 0, 1, page boundaries, `len - 1`,
//! `len`, `u64::MAX - 1` and `u64::MAX` in all combinations: an error or the right bytes,
//! never a panic. `cargo fuzz` targets (see `fuzz/`) go further.
mod common;

use common::{file_with, pattern, tempdir};
use mmap_io::segment::{Segment, SegmentMut};
use mmap_io::{MemoryMappedFile, MmapIoError};
use std::sync::Arc;

const LEN: u64 = 2 * 4096 + 123;

fn edges() -> [u64; 11] {
    [
        0,
        1,
        4095,
        4096,
        4097,
        8192,
        LEN - 1,
        LEN,
        LEN + 1,
        u64::MAX - 1,
        u64::MAX,
    ]
}

fn fits(offset: u64, len: u64) -> bool {
    len == 0 || offset.checked_add(len).is_some_and(|end| end <= LEN)
}

/// The outcome of a range call must be `Ok` exactly when the range fits, and otherwise
/// `OutOfBounds` reporting the same range.
fn judge<T>(what: &str, offset: u64, len: u64, r: Result<T, MmapIoError>) -> Option<T> {
    match r {
        Ok(v) => {
            assert!(
                fits(offset, len),
                "{what}({offset}, {len}) accepted an out-of-range request"
            );
            Some(v)
        }
        Err(MmapIoError::OutOfBounds {
            offset: o, len: l, ..
        }) => {
            assert!(
                !fits(offset, len),
                "{what}({offset}, {len}) refused an in-range request"
            );
            assert_eq!((o, l), (offset, len), "{what} reported another range");
            None
        }
        Err(e) => panic!("{what}({offset}, {len}): unexpected error {e}"),
    }
}

#[test]
fn every_range_api_at_every_edge() {
    let dir = tempdir();
    let bytes = pattern(LEN as usize, 9);
    let p = file_with(&dir, "hostile.bin", &bytes);
    let rw = Arc::new(MemoryMappedFile::open_rw(&p).unwrap());
    let ro = Arc::new(MemoryMappedFile::open_ro(&p).unwrap());
    // Bytes `as_slice_bytes` lends are kept from writes until the handle drops: a copy of
    // the file of its own, so that the writes below are not refused.
    let lender = MemoryMappedFile::open_ro(file_with(&dir, "lender.bin", &bytes)).unwrap();
    let want = |o: u64, l: u64| {
        if l == 0 {
            &[][..]
        } else {
            &bytes[o as usize..(o + l) as usize]
        }
    };

    for offset in edges() {
        for len in edges() {
            for m in [&rw, &ro] {
                if let Some(s) = judge("as_slice", offset, len, m.as_slice(offset, len)) {
                    assert!(len == 0 && s.is_empty() || s == want(offset, len));
                }
                if let Ok(n) = usize::try_from(len) {
                    if n <= 2 * LEN as usize {
                        let mut buf = vec![0u8; n];
                        if judge("read_into", offset, len, m.read_into(offset, &mut buf)).is_some()
                            && n > 0
                        {
                            assert_eq!(buf, want(offset, len));
                        }
                    }
                }
                judge("flush_range", offset, len, m.flush_range(offset, len));
                judge(
                    "touch_pages_range",
                    offset,
                    len,
                    m.touch_pages_range(offset, len),
                );
                judge("prefetch_range", offset, len, m.prefetch_range(offset, len));
                #[cfg(feature = "advise")]
                judge(
                    "advise",
                    offset,
                    len,
                    m.advise(offset, len, mmap_io::MmapAdvice::Normal),
                );
                #[cfg(feature = "locking")]
                judge("unlock", offset, len, m.unlock(offset, len));
                match Segment::new(Arc::clone(m), offset, len) {
                    Ok(seg) => {
                        // An empty segment is valid at any offset, as in 1.1.
                        assert!(len == 0 || offset.checked_add(len).is_some_and(|e| e <= LEN));
                        let s = seg.as_slice().unwrap();
                        assert!(len == 0 || s == want(offset, len));
                    }
                    Err(e) => assert!(matches!(e, MmapIoError::OutOfBounds { .. })),
                }
            }
            if let Some(mut s) = judge("as_slice_mut", offset, len, rw.as_slice_mut(offset, len)) {
                s.copy_from_slice(want(offset, len));
            }
            if let Some(b) = judge(
                "as_slice_bytes",
                offset,
                len,
                lender.as_slice_bytes(offset, len),
            ) {
                assert!(len == 0 || b == want(offset, len));
            }
            if let Ok(n) = usize::try_from(len) {
                if n <= 2 * LEN as usize {
                    let data = if fits(offset, len) && n > 0 {
                        want(offset, len).to_vec()
                    } else {
                        vec![0xEE; n]
                    };
                    judge(
                        "update_region",
                        offset,
                        len,
                        rw.update_region(offset, &data),
                    );
                }
            }
            if let Ok(seg) = SegmentMut::new(Arc::clone(&rw), offset, len) {
                let n = len.min(16);
                seg.write(want(offset, n)).unwrap();
            }
            #[cfg(feature = "atomic")]
            if let Ok(count) = usize::try_from(len) {
                match rw.atomic_u64_slice(offset, count) {
                    Ok(_) => assert!(count == 0 || (offset % 8 == 0 && offset + 8 * len <= LEN)),
                    Err(MmapIoError::Misaligned { .. }) => assert!(offset % 8 != 0),
                    Err(MmapIoError::OutOfBounds { .. }) => {}
                    Err(e) => panic!("atomic_u64_slice({offset}, {count}): {e}"),
                }
            }
            #[cfg(feature = "bytes")]
            if let Some(b) = judge("read_bytes", offset, len, rw.read_bytes(offset, len)) {
                assert!(len == 0 || b == want(offset, len));
            }
        }
    }
    // Everything written above wrote back the bytes that were there: the file is unchanged.
    rw.flush().unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), bytes);
}
