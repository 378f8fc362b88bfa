#![cfg(feature = "iterator")]
mod common;

use common::{file_with, path, pattern, read_file, tempdir};
use mmap_io::utils::page_size;
use mmap_io::{MemoryMappedFile, MmapIoError};
use std::sync::Arc;

fn rw_and_ro(dir: &tempfile::TempDir, bytes: &[u8]) -> [MemoryMappedFile; 2] {
    let p = file_with(dir, "it.bin", bytes);
    [
        MemoryMappedFile::open_rw(&p).unwrap(),
        MemoryMappedFile::open_ro(&p).unwrap(),
    ]
}

#[test]
fn chunks_cover_the_mapping_in_order_with_an_exact_size() {
    let dir = tempdir();
    let bytes = pattern(10_000, 1);
    for mmap in rw_and_ro(&dir, &bytes) {
        for chunk in [1, 7, 4096, 9999, 10_000, 10_001, usize::MAX] {
            let mut it = mmap.chunks(chunk);
            let expected = bytes.len().div_ceil(chunk);
            assert_eq!(it.len(), expected);
            let mut seen = Vec::new();
            let mut left = expected;
            while let Some(c) = it.next() {
                left -= 1;
                assert_eq!(it.size_hint(), (left, Some(left)));
                assert!(c.len() <= chunk);
                seen.extend_from_slice(&c);
            }
            assert_eq!(seen, bytes, "chunk size {chunk}");
            assert!(it.next().is_none(), "fused");
        }
    }
}

#[test]
fn chunks_of_zero_yield_nothing() {
    let dir = tempdir();
    for mmap in rw_and_ro(&dir, &pattern(100, 2)) {
        assert_eq!(mmap.chunks(0).len(), 0);
        assert_eq!(mmap.chunks(0).count(), 0);
        assert_eq!(mmap.chunks_owned(0).count(), 0);
        let mut calls = 0;
        mmap.chunks_mut(0)
            .for_each_mut(|_, _| {
                calls += 1;
                Ok(())
            })
            .unwrap_or(());
        assert_eq!(calls, 0);
    }
}

#[cfg(feature = "atomic")]
#[test]
fn chunks_mut_of_zero_is_a_no_op_beside_a_live_atomic_view() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(dir.path().join("zero.bin"), 4096).unwrap();
    let _counter = mmap.atomic_u64(0).unwrap();
    mmap.chunks_mut(0).for_each_mut(|_, _| Ok(())).unwrap();
    // Chunks that would cover the counter are refused, as any write over it.
    assert!(matches!(
        mmap.chunks_mut(64).for_each_mut(|_, _| Ok(())),
        Err(MmapIoError::InvalidMode(_))
    ));
}

#[test]
fn pages_are_page_sized_views() {
    let dir = tempdir();
    let ps = page_size();
    let bytes = pattern(3 * ps + 100, 3);
    for mmap in rw_and_ro(&dir, &bytes) {
        let pages: Vec<_> = mmap.pages().collect();
        assert_eq!(pages.len(), 4);
        assert_eq!(mmap.pages().len(), 4);
        assert_eq!(pages[3].len(), 100);
        assert_eq!(pages[1], &bytes[ps..2 * ps]);
    }
}

#[test]
fn owned_iterators_copy_the_same_bytes() {
    let dir = tempdir();
    let bytes = pattern(3 * page_size() + 5, 4);
    for mmap in rw_and_ro(&dir, &bytes) {
        let chunks: Vec<Vec<u8>> = mmap.chunks_owned(1000).collect::<Result<_, _>>().unwrap();
        assert_eq!(chunks.concat(), bytes);
        assert_eq!(mmap.chunks_owned(1000).len(), chunks.len());
        let pages: Vec<Vec<u8>> = mmap.pages_owned().collect::<Result<_, _>>().unwrap();
        assert_eq!(pages.len(), 4);
        assert_eq!(mmap.pages_owned().len(), 4);
        assert_eq!(pages.concat(), bytes);
    }
}

#[test]
fn an_empty_mapping_has_no_chunks() {
    let dir = tempdir();
    let p = file_with(&dir, "empty.bin", b"");
    let mmap = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(mmap.chunks(10).count(), 0);
    assert_eq!(mmap.pages().count(), 0);
    assert_eq!(mmap.pages_owned().count(), 0);
}

#[test]
fn chunks_mut_visits_every_chunk_under_one_lock_and_counts_the_writes() {
    let dir = tempdir();
    let p = path(&dir, "mut.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 10_000).unwrap();
    let mut offsets = Vec::new();
    mmap.chunks_mut(4096)
        .for_each_mut(|offset, chunk| {
            offsets.push((offset, chunk.len()));
            chunk.fill((offset / 4096) as u8 + 1);
            Ok(())
        })
        .unwrap();
    assert_eq!(offsets, [(0, 4096), (4096, 4096), (8192, 1808)]);
    assert_eq!(mmap.pending_bytes(), 10_000);
    mmap.flush().unwrap();
    let on_disk = read_file(&p);
    assert_eq!((on_disk[0], on_disk[5000], on_disk[9999]), (1, 2, 3));
}

#[test]
fn chunks_mut_stops_at_the_first_error() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "stop.bin"), 4096).unwrap();
    let mut visited = 0;
    let err = mmap
        .chunks_mut(1024)
        .for_each_mut(|offset, chunk| {
            visited += 1;
            if offset == 1024 {
                return Err(MmapIoError::InvalidMode("stop here"));
            }
            chunk.fill(9);
            Ok(())
        })
        .unwrap_err();
    assert!(matches!(err, MmapIoError::InvalidMode("stop here")));
    assert_eq!(visited, 2);
    assert_eq!(mmap.as_slice(0, 1).unwrap(), &[9]);
    assert_eq!(mmap.as_slice(2048, 1).unwrap(), &[0]);

    let inner = mmap
        .chunks_mut(1024)
        .for_each_mut_legacy(|offset, _| {
            if offset == 0 {
                Err("callback error")
            } else {
                Ok(())
            }
        })
        .unwrap();
    assert_eq!(inner, Err("callback error"));
}

#[test]
fn chunks_mut_on_a_read_only_mapping_is_invalid_mode() {
    let dir = tempdir();
    let bytes = pattern(4096, 5);
    let p = file_with(&dir, "ro.bin", &bytes);
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    for chunk in [0, 1, 4096] {
        assert!(matches!(
            ro.chunks_mut(chunk).for_each_mut(|_, c| {
                c.fill(0);
                Ok(())
            }),
            Err(MmapIoError::InvalidMode(_))
        ));
        assert!(matches!(
            ro.chunks_mut(chunk)
                .for_each_mut_legacy(|_, _| Ok::<(), ()>(())),
            Err(MmapIoError::InvalidMode(_))
        ));
    }
    assert_eq!(read_file(&p), bytes);
}

#[test]
fn an_item_keeps_resize_waiting_until_it_is_dropped() {
    let dir = tempdir();
    let mmap = Arc::new(MemoryMappedFile::create_rw(path(&dir, "hold.bin"), 8192).unwrap());
    let mut chunks = mmap.chunks(4096);
    let first = chunks.next().unwrap();
    drop(chunks); // the item outlives its iterator, and still holds its own guard
    let resizer = common::BackgroundResize::start(&mmap, 4096 * 1024);
    assert!(!resizer.is_done(), "resize ran under a live item");
    assert_eq!(first.len(), 4096);
    drop(first);
    resizer.join();
}

#[test]
fn a_live_iterator_fixes_the_length_so_len_is_what_it_yields() {
    let dir = tempdir();
    let mmap = Arc::new(MemoryMappedFile::create_rw(path(&dir, "fixed.bin"), 4 * 4096).unwrap());
    // On the thread that holds it, a resize is refused, as for any view it holds.
    let mut chunks = mmap.chunks(4096);
    drop(chunks.next().unwrap());
    assert!(common::is_invalid_mode(mmap.resize(4096 + 100)));
    assert_eq!(chunks.len(), 3);
    assert!(chunks.all(|c| c.len() == 4096));
    drop(chunks);
    let mut owned = mmap.chunks_owned(4096);
    assert!(common::is_invalid_mode(mmap.resize(10)));
    assert!(owned.next().unwrap().is_ok());
    drop(owned);

    // On another thread, it waits for the iterator: every item comes, at full length.
    let chunks = mmap.chunks(4096);
    let resizer = common::BackgroundResize::start(&mmap, 4096);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert!(!resizer.is_done(), "resize ran under a live iterator");
    assert_eq!(chunks.len(), 4);
    let lens: Vec<usize> = chunks.map(|c| c.len()).collect();
    assert_eq!(lens, [4096; 4]);
    resizer.join();
    assert_eq!(mmap.len(), 4096);
}

#[test]
fn items_from_several_iterators_can_be_alive_at_once() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "many.bin"), 8192).unwrap();
    let a: Vec<_> = mmap.chunks(1024).collect();
    let b: Vec<_> = mmap.pages().collect();
    assert_eq!(a.len() + b.len(), 8 + 2);
    assert!(a.iter().chain(b.iter()).all(|s| s.iter().all(|&x| x == 0)));
}

#[test]
fn a_panic_in_chunks_mut_still_counts_the_chunks_handed_out() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "panic.bin"), 4 * 4096).unwrap();
    let panicked = std::panic::catch_unwind(|| {
        mmap.chunks_mut(4096)
            .for_each_mut(|offset, chunk| {
                chunk.fill(1);
                assert!(offset < 8192, "stop in the third chunk");
                Ok(())
            })
            .unwrap();
    });
    assert!(panicked.is_err());
    assert_eq!(
        mmap.pending_bytes(),
        3 * 4096,
        "three chunks were handed out"
    );
    mmap.update_region(0, b"still usable").unwrap();
    mmap.flush().unwrap();
    assert_eq!(mmap.pending_bytes(), 0);
}
