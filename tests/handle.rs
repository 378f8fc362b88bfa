mod common;

use common::{assert_child_passed, path, run_child_test_within, tempdir};
use mmap_io::MemoryMappedFile;

#[test]
fn a_handle_is_send_sync_clone_and_debug() {
    fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug>() {}
    assert_traits::<MemoryMappedFile>();
    assert_traits::<mmap_io::segment::Segment>();
    assert_traits::<mmap_io::segment::SegmentMut>();
}

#[test]
fn clones_share_one_mapping() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "c.bin"), 4096).unwrap();
    let clone = mmap.clone();
    clone.update_region(0, b"shared").unwrap();
    assert_eq!(mmap.as_slice(0, 6).unwrap(), b"shared");
    // SAFETY: the pointers are only compared.
    assert_eq!(unsafe { mmap.as_ptr() }, unsafe { clone.as_ptr() });
    clone.resize(8192).unwrap();
    assert_eq!(mmap.len(), 8192);
    assert_eq!(mmap.pending_bytes(), clone.pending_bytes());
}

#[test]
fn unmap_waits_for_the_last_handle_and_returns_the_file() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "u.bin"), 4096).unwrap();
    mmap.update_region(0, b"kept").unwrap();
    mmap.flush().unwrap();
    let clone = mmap.clone();
    let mmap = mmap.unmap().expect_err("a clone is still alive");
    assert_eq!(
        mmap.as_slice(0, 4).unwrap(),
        b"kept",
        "the handle comes back usable"
    );
    drop(clone);
    let mut file = mmap.unmap().expect("last handle");
    let mut bytes = [0u8; 4];
    std::io::Read::read_exact(&mut file, &mut bytes).unwrap();
    assert_eq!(&bytes, b"kept");
}

#[test]
fn debug_shows_path_mode_and_length() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "dbg.bin"), 123).unwrap();
    let shown = format!("{mmap:?}");
    for part in ["dbg.bin", "ReadWrite", "len: 123"] {
        assert!(shown.contains(part), "{shown} lacks {part}");
    }
}

// Linux only: resolves the descriptor through /proc/self/fd (Windows: see the next test).
#[cfg(target_os = "linux")]
#[test]
fn the_file_descriptor_is_the_mapped_file() {
    use std::os::fd::{AsFd, AsRawFd};
    let dir = tempdir();
    let p = path(&dir, "fd.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 777).unwrap();
    let fd = mmap.as_raw_fd();
    assert_eq!(fd, mmap.as_fd().as_raw_fd());
    let target = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap();
    assert_eq!(target, std::fs::canonicalize(&p).unwrap());
}

#[cfg(windows)]
#[test]
fn the_handle_is_the_mapped_file() {
    use std::os::windows::io::{AsHandle, AsRawHandle, FromRawHandle, IntoRawHandle};
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "h.bin"), 777).unwrap();
    assert_eq!(mmap.as_raw_handle(), mmap.as_handle().as_raw_handle());
    // A duplicate of the handle reads the file's length.
    let dup = mmap.as_handle().try_clone_to_owned().unwrap();
    // SAFETY: `dup` is an owned, open file handle, handed over to the `File`.
    let file = unsafe { std::fs::File::from_raw_handle(dup.into_raw_handle()) };
    assert_eq!(file.metadata().unwrap().len(), 777);
}

#[test]
fn handles_work_from_many_threads() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "t.bin"), 16 * 1024).unwrap();
    std::thread::scope(|s| {
        for i in 0..4u8 {
            let mmap = &mmap;
            s.spawn(move || {
                for j in 0..256u64 {
                    let off = u64::from(i) * 4096 + j * 16;
                    mmap.update_region(off, &[i; 16]).unwrap();
                    assert_eq!(mmap.as_slice(off, 16).unwrap(), [i; 16]);
                }
            });
        }
    });
    mmap.flush().unwrap();
    assert_eq!(mmap.pending_bytes(), 0);
}

/// Uses the mapping it holds when the thread that owns it exits.
struct UseAtExit(Option<&'static MemoryMappedFile>);

impl Drop for UseAtExit {
    fn drop(&mut self) {
        if let Some(mmap) = self.0 {
            mmap.update_region(0, b"late").unwrap();
            assert_eq!(mmap.as_slice(0, 4).unwrap(), b"late");
            #[cfg(feature = "atomic")]
            mmap.atomic_u64(8)
                .unwrap()
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

thread_local! {
    static AT_EXIT: std::cell::RefCell<UseAtExit> = const { std::cell::RefCell::new(UseAtExit(None)) };
}

#[test]
fn a_mapping_is_usable_while_its_thread_exits() {
    // A failure aborts the process (a panic in a thread-local's destructor): run in a child.
    assert_child_passed(&run_child_test_within("use_at_exit_child", 60));
}

#[test]
#[ignore = "run in a child process by a_mapping_is_usable_while_its_thread_exits"]
fn use_at_exit_child() {
    let dir = tempdir();
    let leak = |name: &str| -> &'static MemoryMappedFile {
        Box::leak(Box::new(
            MemoryMappedFile::create_rw(path(&dir, name), 64).unwrap(),
        ))
    };
    let (first, late) = (leak("first.bin"), leak("late.bin"));
    for _ in 0..3 {
        std::thread::spawn(move || {
            // Registered before the thread's first view, so destroyed after what that view
            // set up on the thread: `late` is first used when that is gone.
            AT_EXIT.with(|at_exit| at_exit.borrow_mut().0 = Some(late));
            first.update_region(0, b"used").unwrap();
            assert_eq!(first.as_slice(0, 4).unwrap(), b"used");
        })
        .join()
        .unwrap();
    }
    assert_eq!(late.as_slice(0, 4).unwrap(), b"late");
    #[cfg(feature = "atomic")]
    assert_eq!(
        late.atomic_u64(8)
            .unwrap()
            .load(std::sync::atomic::Ordering::SeqCst),
        3
    );
}

#[test]
fn a_new_thread_does_not_inherit_the_views_of_an_exited_one() {
    // A child process: there, the thread that made the view is the only one to have exited,
    // so the next thread started is given its thread id.
    assert_child_passed(&run_child_test_within("inherited_views_child", 60));
}

#[test]
#[ignore = "run in a child process by a_new_thread_does_not_inherit_the_views_of_an_exited_one"]
fn inherited_views_child() {
    let dir = tempdir();
    let map: &'static MemoryMappedFile = Box::leak(Box::new(
        MemoryMappedFile::create_rw(path(&dir, "inherit.bin"), 4096).unwrap(),
    ));
    // A view made on a thread that has exited since, kept here.
    let view = std::thread::spawn(|| map.as_slice(0, 16).unwrap())
        .join()
        .unwrap();
    #[cfg(feature = "atomic")]
    let counter = std::thread::spawn(|| map.atomic_u64(64).unwrap())
        .join()
        .unwrap();
    // New threads hold no view: their writes wait for the kept views instead of being
    // refused as if they held them.
    let writers: Vec<_> = (0..4u64)
        .map(|i| {
            std::thread::spawn(move || {
                map.update_region(8 + i, b"w").map_err(|e| e.to_string())?;
                if i == 0 {
                    map.resize(8192).map_err(|e| e.to_string())?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    for writer in &writers {
        assert!(!writer.is_finished(), "a write did not wait for the view");
    }
    drop(view);
    #[cfg(feature = "atomic")]
    drop(counter);
    for writer in writers {
        writer.join().unwrap().unwrap();
    }
    assert_eq!(map.as_slice(8, 4).unwrap(), b"wwww");
    assert_eq!(map.len(), 8192);

    // The same for a write: new threads' reads wait for a writable view made on a thread
    // that has exited since.
    let write = std::thread::spawn(|| map.as_slice_mut(16, 8).unwrap())
        .join()
        .unwrap();
    let readers: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(|| map.as_slice(16, 8).map(|v| v.to_vec())))
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    for reader in &readers {
        assert!(!reader.is_finished(), "a read did not wait for the write");
    }
    let mut write = write;
    write.copy_from_slice(b"written!");
    drop(write);
    for reader in readers {
        assert_eq!(reader.join().unwrap().unwrap(), b"written!");
    }

    // And for an atomic view kept in the registry (past the slot's entries, whose views
    // are gone): a new thread's resize waits for it.
    #[cfg(feature = "atomic")]
    {
        let registered = std::thread::spawn(|| {
            let in_slot: Vec<_> = (0..3)
                .map(|i| map.atomic_u64(128 + 8 * i).unwrap())
                .collect();
            let past = map.atomic_u64(160).unwrap();
            drop(in_slot);
            past
        })
        .join()
        .unwrap();
        let resizer = std::thread::spawn(|| map.resize(3 * 4096).map_err(|e| e.to_string()));
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(
            !resizer.is_finished(),
            "the resize did not wait for the view"
        );
        drop(registered);
        resizer.join().unwrap().unwrap();
        assert_eq!(map.len(), 3 * 4096);
    }
}

/// What a thread that is exiting holds, and what it asks for after its thread id is gone.
struct HeldAtExit(
    Option<mmap_io::MappedSlice<'static>>,
    Option<mmap_io::MappedSliceMut<'static>>,
);

/// Asks for a write and a view while the thread's own `HELD_AT_EXIT` views are alive, and
/// records the answers.
struct AskAtExit(&'static MemoryMappedFile);

static ANSWERS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

impl Drop for AskAtExit {
    fn drop(&mut self) {
        let mut answers = ANSWERS.lock().unwrap();
        answers.push(common::message(self.0.update_region(4, b"x")));
        answers.push(common::message(self.0.as_slice(2, 8)));
    }
}

thread_local! {
    static HELD_AT_EXIT: std::cell::RefCell<HeldAtExit> =
        const { std::cell::RefCell::new(HeldAtExit(None, None)) };
    static ASK_AT_EXIT: std::cell::RefCell<Option<AskAtExit>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn an_exiting_thread_is_refused_what_would_wait_for_its_own_views() {
    if cfg!(all(windows, target_env = "gnu")) {
        // There thread-locals are emulated, and reset while the thread exits: a destructor
        // that runs late sees the thread as a new one, which holds nothing.
        return println!("skipped: thread-locals are reset during thread exit on this target");
    }
    assert_child_passed(&run_child_test_within("own_views_at_exit_child", 60));
}

#[test]
#[ignore = "run in a child process by an_exiting_thread_is_refused_what_would_wait_for_its_own_views"]
fn own_views_at_exit_child() {
    let dir = tempdir();
    let map: &'static MemoryMappedFile = Box::leak(Box::new(
        MemoryMappedFile::create_rw(path(&dir, "exit.bin"), 4096).unwrap(),
    ));
    for write in [false, true] {
        std::thread::spawn(move || {
            // Registered first, so destroyed last: after the mapping's per-thread state,
            // after the one that asks.
            HELD_AT_EXIT.with(|_| {});
            ASK_AT_EXIT.with(|ask| *ask.borrow_mut() = Some(AskAtExit(map)));
            HELD_AT_EXIT.with(|held| {
                let mut held = held.borrow_mut();
                if write {
                    held.1 = Some(map.as_slice_mut(0, 8).unwrap());
                } else {
                    held.0 = Some(map.as_slice(0, 8).unwrap());
                }
            });
        })
        .join()
        .unwrap();
    }
    let answers = ANSWERS.lock().unwrap().clone();
    assert_eq!(answers.len(), 4, "{answers:?}");
    // Holding a view: the write is refused, another view is granted.
    assert!(answers[0].contains("holds a view"), "{answers:?}");
    assert_eq!(answers[1], "Ok", "{answers:?}");
    // Holding a writable view: both are refused.
    assert!(answers[2].contains("holds"), "{answers:?}");
    assert!(answers[3].contains("holds"), "{answers:?}");
    // Nothing is left held: the mapping is writable again.
    map.update_region(0, b"free").unwrap();
}
