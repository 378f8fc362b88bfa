//! Atomic and plain views of the same bytes never live together (the refusals of the 1.1
//! API), disjoint ranges never interfere, and copies of bytes under an atomic view are never
//! refused. Cases that could die by a signal or hang run in a child process with a deadline.
#![cfg(feature = "atomic")]
// Some imports serve only the Linux-only tests.
#![cfg_attr(not(target_os = "linux"), allow(unused_imports))]

mod common;

use common::{
    assert_child_passed, dirty_kb, eventually, is_invalid_mode, message, path, read_file,
    run_child_test_within, tempdir,
};
use mmap_io::flush::FlushPolicy;
use mmap_io::{MappedSlice, MemoryMappedFile};
use std::sync::atomic::Ordering;
use std::sync::Arc;

mod atomic_and_plain {
    use super::*;

    #[test]
    fn many_views_on_one_thread_still_leave_disjoint_bytes_to_atomic_views() {
        // More views than a thread's slot has entries: the rest are counted with bounds,
        // which atomic views of other bytes stay clear of.
        let dir = tempdir();
        let mmap = MemoryMappedFile::create_rw(path(&dir, "many.bin"), 64 * 1024).unwrap();
        let views: Vec<MappedSlice<'_>> = (0..12)
            .map(|i| mmap.as_slice(i * 64, 64).unwrap())
            .collect();
        let far = mmap
            .atomic_u64(32 * 1024)
            .expect("disjoint from every view");
        far.store(5, Ordering::Relaxed);
        for offset in [0, 8 * 64, 11 * 64 + 56] {
            assert!(
                is_invalid_mode(mmap.atomic_u64(offset)),
                "{offset} is under a view"
            );
        }
        // On another thread too.
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(mmap.atomic_u64(40 * 1024).is_ok());
                assert!(is_invalid_mode(mmap.atomic_u64(10 * 64)));
            });
        });
        drop(views);
        assert!(mmap.atomic_u64(10 * 64).is_ok(), "the views are gone");
    }

    fn mapping(name: &str) -> (tempfile::TempDir, MemoryMappedFile) {
        let dir = tempdir();
        let mmap = MemoryMappedFile::create_rw(path(&dir, name), 4096).unwrap();
        (dir, mmap)
    }

    #[test]
    fn a_slice_over_a_live_atomic_view_is_refused() {
        let (_dir, mmap) = mapping("a.bin");
        let counter = mmap.atomic_u64(8).unwrap();
        for (offset, len) in [(8, 8), (0, 9), (15, 1), (0, 4096)] {
            let refused = mmap.as_slice(offset, len);
            assert!(
                message(refused).contains("atomic view"),
                "as_slice({offset}, {len})"
            );
        }
        let seg = mmap_io::segment::Segment::new(Arc::new(mmap.clone()), 0, 16).unwrap();
        assert!(is_invalid_mode(seg.as_slice()));
        // The bytes next to it are fine, and copies of the counter are never refused.
        assert!(mmap.as_slice(0, 8).is_ok());
        assert!(mmap.as_slice(16, 8).is_ok());
        counter.store(0x0102_0304_0506_0708, Ordering::Relaxed);
        let mut copy = [0u8; 12];
        mmap.read_into(4, &mut copy).unwrap();
        assert_eq!(copy[4..], 0x0102_0304_0506_0708u64.to_ne_bytes());
        drop(counter);
        assert!(
            mmap.as_slice(8, 8).is_ok(),
            "refused only while the view lives"
        );
    }

    #[test]
    fn an_atomic_view_over_a_live_slice_is_refused() {
        let (_dir, mmap) = mapping("b.bin");
        let slice = mmap.as_slice(0, 8).unwrap();
        assert!(message(mmap.atomic_u64(0)).contains("slice view"));
        assert!(is_invalid_mode(mmap.atomic_u32(4)));
        assert!(is_invalid_mode(mmap.atomic_u64_slice(0, 4)));
        // Disjoint: fine, on this thread and on another.
        let counter = mmap.atomic_u64(8).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| assert!(is_invalid_mode(mmap.atomic_u64(0))));
            s.spawn(|| mmap.atomic_u64(16).unwrap().fetch_add(1, Ordering::Relaxed));
        });
        drop((slice, counter));
        assert!(mmap.atomic_u64(0).is_ok());
    }

    #[test]
    fn disjoint_atomic_and_plain_views_live_together_in_either_order() {
        let (_dir, mmap) = mapping("c.bin");
        let slice = mmap.as_slice(64, 8).unwrap();
        let counter = mmap.atomic_u64(0).unwrap();
        let later = mmap.as_slice(128, 8).unwrap();
        counter.fetch_add(1, Ordering::SeqCst);
        assert_eq!((slice.len(), later.len()), (8, 8));
        assert_eq!(counter.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn atomic_views_of_two_widths_over_the_same_bytes_are_refused() {
        let (_dir, mmap) = mapping("d.bin");
        let wide = mmap.atomic_u64(0).unwrap();
        assert!(message(mmap.atomic_u32(0)).contains("another width"));
        assert!(is_invalid_mode(mmap.atomic_u32(4)));
        assert!(is_invalid_mode(mmap.atomic_u32_slice(0, 2)));
        let same = mmap.atomic_u64(0).unwrap(); // the same width shares
        same.fetch_add(2, Ordering::SeqCst);
        assert_eq!(wide.load(Ordering::SeqCst), 2);
        assert!(mmap.atomic_u32(8).is_ok());
    }

    #[test]
    fn every_one_of_many_views_on_one_thread_is_enforced_wherever_it_drops() {
        let (_dir, mmap) = mapping("many.bin");
        // More views than a thread's slot holds: the rest are kept elsewhere, and must be
        // enforced all the same.
        let wide: Vec<_> = (0..6u64)
            .map(|i| mmap.atomic_u64(i * 64).unwrap())
            .collect();
        let narrow: Vec<_> = (0..6u64)
            .map(|i| mmap.atomic_u32(i * 64 + 32).unwrap())
            .collect();
        for (i, v) in wide.iter().enumerate() {
            v.store(i as u64 + 1, Ordering::SeqCst);
        }
        for i in 0..6u64 {
            let at = i * 64;
            assert!(
                message(mmap.as_slice(at + 4, 1)).contains("atomic view"),
                "{at}"
            );
            assert!(message(mmap.update_region(at, &[0; 8])).contains("atomic view"));
            assert!(
                message(mmap.atomic_u32(at)).contains("another width"),
                "{at}"
            );
            assert!(message(mmap.atomic_u64(at + 32)).contains("another width"));
            assert!(is_invalid_mode(mmap.as_slice_mut(at + 32, 4)));
            // From another thread too.
            std::thread::scope(|s| {
                s.spawn(|| assert!(is_invalid_mode(mmap.as_slice(at, 8))));
            });
            // The bytes between are free.
            assert!(mmap.as_slice(at + 8, 24).is_ok());
            mmap.update_region(at + 40, &[7; 24]).unwrap();
        }
        let mut copy = [0u8; 8];
        mmap.read_into(5 * 64, &mut copy).unwrap();
        assert_eq!(u64::from_ne_bytes(copy), 6, "copies load the views' bytes");
        // Dropped on another thread, each frees its bytes.
        std::thread::scope(|s| {
            s.spawn(move || drop((wide, narrow)));
        });
        assert!(mmap.as_slice(0, 6 * 64).is_ok());
        mmap.update_region(0, &[1; 8]).unwrap();
        assert!(mmap.atomic_u32(0).is_ok(), "no width is left behind");
    }

    #[test]
    fn writes_over_a_live_atomic_view_are_refused_and_others_go_on() {
        assert_child_passed(&run_child_test_within(
            "atomic_and_plain::writes_beside_a_view_child",
            60,
        ));
    }

    #[test]
    #[ignore = "run in a child process by writes_over_a_live_atomic_view_are_refused_and_others_go_on"]
    fn writes_beside_a_view_child() {
        let dir = tempdir();
        let p = path(&dir, "e.bin");
        let mmap = MemoryMappedFile::create_rw(&p, 4096).unwrap();
        let counter = mmap.atomic_u64(0).unwrap();
        counter.store(42, Ordering::SeqCst);
        assert!(message(mmap.update_region(4, &[9; 8])).contains("atomic view"));
        assert!(is_invalid_mode(mmap.as_slice_mut(0, 1)));
        #[cfg(feature = "iterator")]
        assert!(is_invalid_mode(
            mmap.chunks_mut(64).for_each_mut(|_, _| Ok(()))
        ));
        // Other bytes are written while the view lives, from any thread.
        mmap.update_region(8, b"next").unwrap();
        std::thread::scope(|s| {
            s.spawn(|| mmap.update_region(100, b"other thread").unwrap());
        });
        mmap.flush().unwrap();
        let bytes = read_file(&p);
        assert_eq!(
            bytes[..8],
            42u64.to_ne_bytes(),
            "the refused writes wrote nothing"
        );
        assert_eq!(&bytes[8..12], b"next");
        assert_eq!(&bytes[100..112], b"other thread");
    }

    #[cfg(feature = "iterator")]
    #[test]
    fn iterator_items_over_an_atomic_view_are_copies() {
        let (_dir, mmap) = mapping("f.bin");
        let counter = mmap.atomic_u32(100).unwrap();
        counter.store(0xAABB_CCDD, Ordering::SeqCst);
        let chunks: Vec<Vec<u8>> = mmap.chunks(64).map(|c| c.to_vec()).collect();
        assert_eq!(chunks.len(), 64);
        assert_eq!(chunks[1][36..40], 0xAABB_CCDDu32.to_ne_bytes());
    }

    /// Under `EveryMillis`, stores through a view that lives for the whole program are
    /// written back every period: the mapping is pending while the view lives.
    #[cfg(target_os = "linux")]
    #[test]
    fn every_millis_writes_back_stores_through_a_long_lived_view() {
        let dir = tempdir();
        let mmap = MemoryMappedFile::builder(path(&dir, "g.bin"))
            .size(64 * 1024)
            .flush_policy(FlushPolicy::EveryMillis(10))
            .create()
            .unwrap();
        let counter = mmap.atomic_u64(4096).unwrap();
        for round in 1..=3u64 {
            counter.store(round, Ordering::SeqCst);
            assert!(
                eventually(30, || dirty_kb(&mmap) == 0),
                "round {round}: the store's page is still dirty"
            );
        }
        drop(counter);
        // Counted when the view drops, unless the background flusher has run since.
        let pending = mmap.pending_bytes();
        assert!(pending == 8 || pending == 0, "{pending} bytes pending");
        assert!(eventually(30, || dirty_kb(&mmap) == 0 && mmap.pending_bytes() == 0));
    }
}
