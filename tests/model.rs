//! Random operation sequences checked byte for byte against a `Vec<u8>` model.
//!
//! 256 cases per mode by default; a soak run: `PROPTEST_CASES=20000 cargo test --release
//! --all-features --test model`.
mod common;

use common::{path, tempdir};
use mmap_io::segment::SegmentMut;
use mmap_io::{MmapIoError, MmapMode};
use proptest::prelude::*;
use std::sync::Arc;

#[derive(Debug, Clone)]
enum Op {
    Update(u64, Vec<u8>),
    SliceMut(u64, Vec<u8>),
    Segment(u64, u64, Vec<u8>),
    ReadInto(u64, usize),
    AsSlice(u64, u64),
    Resize(u64),
    Flush,
    FlushRange(u64, u64),
    Reopen,
}

/// Offsets that hit the edges: small ones, ones near the current sizes, and huge ones.
fn offset() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0u64..9000,
        1 => Just(u64::MAX),
        1 => (u64::MAX - 16)..=u64::MAX,
        1 => prop::sample::select(vec![4095u64, 4096, 4097, 8191, 8192]),
    ]
}

fn data() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..300)
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (offset(), data()).prop_map(|(o, d)| Op::Update(o, d)),
        2 => (offset(), data()).prop_map(|(o, d)| Op::SliceMut(o, d)),
        2 => (offset(), 0u64..400, data()).prop_map(|(o, l, d)| Op::Segment(o, l, d)),
        3 => (offset(), 0usize..500).prop_map(|(o, l)| Op::ReadInto(o, l)),
        3 => (offset(), prop_oneof![0u64..500, Just(u64::MAX)]).prop_map(|(o, l)| Op::AsSlice(o, l)),
        2 => prop_oneof![0u64..10_000, Just(u64::MAX)].prop_map(Op::Resize),
        1 => Just(Op::Flush),
        1 => (offset(), 0u64..9000).prop_map(|(o, l)| Op::FlushRange(o, l)),
        1 => Just(Op::Reopen),
    ]
}

fn fits(offset: u64, len: u64, total: usize) -> bool {
    len == 0
        || offset
            .checked_add(len)
            .is_some_and(|end| end <= total as u64)
}

fn oob(r: &Result<(), MmapIoError>) -> bool {
    matches!(r, Err(MmapIoError::OutOfBounds { .. }))
}

/// Applies `ops` to a mapping of mode `mode` and to the model, checking they agree.
fn run(mode: MmapMode, initial: Vec<u8>, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let dir = tempdir();
    let p = path(&dir, "model.bin");
    std::fs::write(&p, &initial).unwrap();
    let open = || {
        let builder = mmap_io::MemoryMappedFile::builder(&p).mode(mode);
        #[cfg(feature = "cow")]
        let builder = builder.cow_writable(true);
        builder.open().unwrap()
    };
    let mut mmap = Arc::new(open());
    // The file's bytes: for read-write they follow the mapping; for copy-on-write never.
    let mut model = initial.clone();
    let private = mode == MmapMode::CopyOnWrite;

    for op in ops {
        match op {
            Op::Update(o, d) => {
                let r = mmap.update_region(o, &d);
                if fits(o, d.len() as u64, model.len()) {
                    prop_assert!(r.is_ok(), "{r:?}");
                    if !d.is_empty() {
                        model[o as usize..o as usize + d.len()].copy_from_slice(&d);
                    }
                } else {
                    prop_assert!(oob(&r), "{r:?}");
                }
            }
            Op::SliceMut(o, d) => match mmap.as_slice_mut(o, d.len() as u64) {
                Ok(mut s) => {
                    prop_assert!(fits(o, d.len() as u64, model.len()));
                    s.copy_from_slice(&d);
                    if !d.is_empty() {
                        model[o as usize..o as usize + d.len()].copy_from_slice(&d);
                    }
                }
                Err(e) => prop_assert!(!fits(o, d.len() as u64, model.len()), "{e}"),
            },
            Op::Segment(o, len, d) => match SegmentMut::new(Arc::clone(&mmap), o, len) {
                Ok(seg) => {
                    // An empty segment is valid at any offset, as in 1.1.
                    prop_assert!(fits(o, len, model.len()));
                    let r = seg.write(&d);
                    if d.len() as u64 <= len {
                        prop_assert!(r.is_ok(), "{r:?}");
                        if !d.is_empty() {
                            model[o as usize..o as usize + d.len()].copy_from_slice(&d);
                        }
                    } else {
                        prop_assert!(oob(&r), "{r:?}");
                    }
                }
                Err(e) => {
                    let is_oob = matches!(e, MmapIoError::OutOfBounds { .. });
                    prop_assert!(is_oob, "{}", e);
                }
            },
            Op::ReadInto(o, len) => {
                let mut buf = vec![0u8; len];
                match mmap.read_into(o, &mut buf) {
                    Ok(()) if len > 0 => {
                        prop_assert_eq!(&buf[..], &model[o as usize..o as usize + len])
                    }
                    Ok(()) => {}
                    Err(_) => prop_assert!(!fits(o, len as u64, model.len())),
                }
            }
            Op::AsSlice(o, len) => match mmap.as_slice(o, len) {
                Ok(s) if len > 0 => prop_assert_eq!(&s[..], &model[o as usize..(o + len) as usize]),
                Ok(s) => prop_assert!(s.is_empty()),
                Err(_) => prop_assert!(!fits(o, len, model.len())),
            },
            Op::Resize(n) => {
                let r = mmap.resize(n);
                if private {
                    prop_assert!(matches!(r, Err(MmapIoError::InvalidMode(_))));
                } else if n == 0 || n > 1 << 40 {
                    prop_assert!(r.is_err());
                    prop_assert_eq!(mmap.len(), model.len() as u64);
                } else {
                    prop_assert!(r.is_ok(), "{r:?}");
                    model.resize(n as usize, 0);
                }
            }
            Op::Flush => prop_assert!(mmap.flush().is_ok()),
            Op::FlushRange(o, len) => {
                let r = mmap.flush_range(o, len);
                prop_assert_eq!(r.is_ok(), fits(o, len, model.len()), "{:?}", r);
            }
            Op::Reopen => {
                mmap.flush().unwrap();
                drop(mmap);
                mmap = Arc::new(open());
                if private {
                    model = initial.clone();
                }
            }
        }
        prop_assert_eq!(mmap.len(), model.len() as u64);
    }
    mmap.flush().unwrap();
    let on_disk = std::fs::read(&p).unwrap();
    if private {
        prop_assert_eq!(on_disk, initial, "copy-on-write writes reached the file");
    } else {
        prop_assert_eq!(on_disk, model, "the file differs from the model");
    }
    Ok(())
}

fn initial() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 1..9000)
}

proptest! {
    #[test]
    fn read_write_matches_the_model(init in initial(), ops in prop::collection::vec(op(), 1..40)) {
        run(MmapMode::ReadWrite, init, ops)?;
    }
}

#[cfg(feature = "cow")]
proptest! {
    #[test]
    fn copy_on_write_matches_the_model(init in initial(), ops in prop::collection::vec(op(), 1..40)) {
        run(MmapMode::CopyOnWrite, init, ops)?;
    }
}
