#![cfg(feature = "atomic")]
// Some imports serve only the Linux-only tests.
#![cfg_attr(not(target_os = "linux"), allow(unused_imports))]
mod common;

use common::{
    assert_child_passed, child_test_command, dirty_kb, file_with, path, pattern, read_file,
    run_child_test_within, tempdir,
};
use mmap_io::{MemoryMappedFile, MmapIoError};
use std::sync::atomic::Ordering;
use std::sync::Arc;

const CHILD_PATH: &str = "MMAP_IO_TEST_COUNTER_PATH";
const ADDS: u64 = 200_000;

#[test]
fn views_read_and_write_the_mapped_bytes() {
    let dir = tempdir();
    let p = path(&dir, "v.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 64).unwrap();
    mmap.atomic_u64(8)
        .unwrap()
        .store(0x0102_0304_0506_0708, Ordering::SeqCst);
    mmap.atomic_u32(4)
        .unwrap()
        .store(0xAABB_CCDD, Ordering::SeqCst);
    let mut buf = [0u8; 8];
    mmap.read_into(8, &mut buf).unwrap();
    assert_eq!(u64::from_ne_bytes(buf), 0x0102_0304_0506_0708);
    mmap.update_region(16, &7u64.to_ne_bytes()).unwrap();
    assert_eq!(
        mmap.atomic_u64(16).unwrap().fetch_add(1, Ordering::SeqCst),
        7
    );
    let slice = mmap.atomic_u32_slice(0, 16).unwrap();
    assert_eq!(slice.len(), 16);
    assert_eq!(slice[1].load(Ordering::SeqCst), 0xAABB_CCDD);
    drop(slice);
    assert_eq!(
        mmap.atomic_u64_slice(8, 2).unwrap()[1].load(Ordering::SeqCst),
        8
    );
    mmap.flush().unwrap();
    assert_eq!(
        &read_file(&p)[8..16],
        &0x0102_0304_0506_0708u64.to_ne_bytes()
    );
}

#[test]
fn misaligned_offsets_are_refused_with_the_required_alignment() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "m.bin"), 64).unwrap();
    for offset in [1, 2, 3, 5, 63] {
        let err = mmap.atomic_u32(offset).unwrap_err();
        assert!(matches!(err, MmapIoError::Misaligned { required: 4, offset: o } if o == offset));
        assert!(mmap.atomic_u32_slice(offset, 2).is_err());
    }
    for offset in [4, 12, 60, u64::MAX] {
        let err = mmap.atomic_u64(offset).unwrap_err();
        assert!(matches!(err, MmapIoError::Misaligned { required: 8, offset: o } if o == offset));
        assert!(mmap.atomic_u64_slice(offset, 1).is_err());
    }
    assert_eq!(
        err_text(mmap.atomic_u64(4)),
        "atomic alignment error: required=8, offset=4"
    );
}

fn err_text<T>(r: Result<T, MmapIoError>) -> String {
    r.err().expect("an error").to_string()
}

#[test]
fn views_past_the_end_are_out_of_bounds() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "o.bin"), 64).unwrap();
    assert!(mmap.atomic_u64(56).is_ok());
    for (offset, count) in [(64, 1), (56, 2), (0, 9), (u64::MAX - 7, 1), (0, usize::MAX)] {
        assert!(
            matches!(
                mmap.atomic_u64_slice(offset, count),
                Err(MmapIoError::OutOfBounds { .. })
            ),
            "{offset} x {count}"
        );
    }
    assert!(matches!(
        mmap.atomic_u64(64),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(matches!(
        mmap.atomic_u32(64),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(matches!(
        mmap.atomic_u32_slice(0, usize::MAX / 2),
        Err(MmapIoError::OutOfBounds { .. })
    ));
}

#[test]
fn an_empty_slice_view_is_fine_up_to_the_end_and_misaligned_ones_are_refused() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "e.bin"), 64).unwrap();
    for offset in [0, 8, 64] {
        assert!(mmap.atomic_u64_slice(offset, 0).unwrap().is_empty());
        assert!(mmap.atomic_u32_slice(offset, 0).unwrap().is_empty());
    }
    // Past the end is out of bounds even for no values, as in 1.1 (tests/parity.rs).
    for offset in [72, 4096, u64::MAX - 7] {
        assert!(matches!(
            mmap.atomic_u64_slice(offset, 0),
            Err(MmapIoError::OutOfBounds { len: 0, .. })
        ));
    }
    for offset in [1, 3, u64::MAX] {
        assert!(matches!(
            mmap.atomic_u32_slice(offset, 0),
            Err(MmapIoError::Misaligned { required: 4, offset: o }) if o == offset
        ));
    }
    for offset in [1, 4, 12, u64::MAX - 3] {
        assert!(matches!(
            mmap.atomic_u64_slice(offset, 0),
            Err(MmapIoError::Misaligned { required: 8, offset: o }) if o == offset
        ));
    }
}

#[test]
fn read_only_mappings_refuse_views_and_stay_intact() {
    let dir = tempdir();
    let bytes = pattern(64, 1);
    let p = file_with(&dir, "ro.bin", &bytes);
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    assert!(matches!(ro.atomic_u64(0), Err(MmapIoError::InvalidMode(_))));
    assert!(matches!(ro.atomic_u32(0), Err(MmapIoError::InvalidMode(_))));
    assert!(matches!(
        ro.atomic_u64_slice(0, 2),
        Err(MmapIoError::InvalidMode(_))
    ));
    assert!(matches!(
        ro.atomic_u32_slice(0, 0),
        Err(MmapIoError::InvalidMode(_))
    ));
    assert_eq!(read_file(&p), bytes);
}

#[cfg(feature = "cow")]
#[test]
fn copy_on_write_views_stay_private_and_need_a_writable_mapping() {
    let dir = tempdir();
    let bytes = vec![0u8; 64];
    let p = file_with(&dir, "cow.bin", &bytes);
    let cow = MemoryMappedFile::open_cow_writable(&p).unwrap();
    cow.atomic_u64(0).unwrap().fetch_add(3, Ordering::SeqCst);
    assert_eq!(cow.atomic_u64(0).unwrap().load(Ordering::SeqCst), 3);
    assert_eq!(cow.pending_bytes(), 0, "private stores are never pending");
    assert_eq!(read_file(&p), bytes);
    let ro = MemoryMappedFile::open_cow(&p).unwrap();
    // Mode is checked before alignment.
    for result in [ro.atomic_u64(0).map(drop), ro.atomic_u64(3).map(drop)] {
        assert!(matches!(result, Err(MmapIoError::InvalidMode(_))));
    }
    assert!(matches!(
        ro.atomic_u32_slice(1, 0),
        Err(MmapIoError::InvalidMode(_))
    ));
}

// Linux only: watches dirty pages through /proc/self/smaps (Wine does not model write-back).
#[cfg(target_os = "linux")]
#[test]
fn views_count_toward_pending_bytes_and_flush_cleans_their_pages() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "p.bin"), 1 << 20).unwrap();
    for page in 0..256u64 {
        mmap.atomic_u64(page * 4096)
            .unwrap()
            .store(page + 1, Ordering::Relaxed);
    }
    assert_eq!(mmap.pending_bytes(), 256 * 8);
    assert!(dirty_kb(&mmap) > 0);
    mmap.flush().unwrap();
    assert_eq!(dirty_kb(&mmap), 0);
    assert_eq!(mmap.pending_bytes(), 0);
    let on_disk = read_file(mmap.path());
    let last = &on_disk[4096 * 255..4096 * 255 + 8];
    assert_eq!(u64::from_ne_bytes(last.try_into().unwrap()), 256);
}

#[test]
fn a_live_view_makes_resize_wait() {
    let dir = tempdir();
    let mmap = Arc::new(MemoryMappedFile::create_rw(path(&dir, "r.bin"), 64).unwrap());
    let view = mmap.atomic_u64(0).unwrap();
    let resizer = common::BackgroundResize::start(&mmap, 1 << 20);
    assert!(!resizer.is_done(), "resize ran under a live view");
    view.fetch_add(1, Ordering::SeqCst); // still valid
                                         // A second view on the same thread while the resize is queued must not deadlock.
    mmap.atomic_u32(8).unwrap().store(1, Ordering::SeqCst);
    drop(view);
    resizer.join();
    assert_eq!(mmap.atomic_u64(0).unwrap().load(Ordering::SeqCst), 1);
}

#[test]
fn fetch_add_from_many_threads_adds_up_exactly() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "t.bin"), 64).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let counter = mmap.atomic_u64(0).unwrap();
                let slots = mmap.atomic_u32_slice(8, 4).unwrap();
                for i in 0..ADDS {
                    counter.fetch_add(1, Ordering::Relaxed);
                    slots[(i % 4) as usize].fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(mmap.atomic_u64(0).unwrap().load(Ordering::SeqCst), 4 * ADDS);
    let slots = mmap.atomic_u32_slice(8, 4).unwrap();
    let total: u64 = slots
        .iter()
        .map(|s| u64::from(s.load(Ordering::SeqCst)))
        .sum();
    assert_eq!(total, 4 * ADDS);
}

#[test]
fn fetch_add_from_a_second_process_adds_up_exactly() {
    let dir = tempdir();
    let p = path(&dir, "shared-counter.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 64).unwrap();
    let child = child_test_command("second_process_adds_child", &[])
        .env(CHILD_PATH, &p)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the child process");
    {
        let counter = mmap.atomic_u64(0).unwrap();
        for _ in 0..ADDS {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "child failed:\n{stdout}");
    assert!(
        stdout.contains("child-added"),
        "the child did not run:\n{stdout}"
    );
    assert_eq!(mmap.atomic_u64(0).unwrap().load(Ordering::SeqCst), 2 * ADDS);
}

#[test]
#[ignore = "runs in a child process started by fetch_add_from_a_second_process_adds_up_exactly"]
fn second_process_adds_child() {
    let p = std::env::var_os(CHILD_PATH).expect("counter path from the parent");
    let mmap = MemoryMappedFile::open_rw(p).unwrap();
    let counter = mmap.atomic_u64(0).unwrap();
    for _ in 0..ADDS {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    println!("child-added");
}

thread_local! {
    static HELD: std::cell::RefCell<Option<mmap_io::atomic::AtomicView<'static, std::sync::atomic::AtomicU64>>> =
        const { std::cell::RefCell::new(None) };
}

#[test]
fn a_view_kept_in_a_thread_local_counts_when_its_thread_exits() {
    // A failure aborts the process (a panic in a thread-local's destructor): run in a child.
    assert_child_passed(&run_child_test_within("view_in_a_thread_local_child", 60));
}

#[test]
#[ignore = "run in a child process by a_view_kept_in_a_thread_local_counts_when_its_thread_exits"]
fn view_in_a_thread_local_child() {
    let dir = tempdir();
    let mmap: &'static MemoryMappedFile = Box::leak(Box::new(
        MemoryMappedFile::create_rw(path(&dir, "tls.bin"), 64).unwrap(),
    ));
    for _ in 0..2 {
        std::thread::spawn(move || {
            HELD.with(|held| {
                // `HELD` is destroyed after everything the view's first use sets up on this
                // thread: the view drops while the thread's other thread-locals are gone.
                let view = mmap.atomic_u64(0).unwrap();
                view.fetch_add(1, Ordering::SeqCst);
                *held.borrow_mut() = Some(view);
            });
        })
        .join()
        .unwrap();
    }
    assert_eq!(mmap.atomic_u64(0).unwrap().load(Ordering::SeqCst), 2);
    assert_eq!(
        mmap.pending_bytes(),
        8 * 3,
        "every view counted, the last one just now"
    );
}
