//! Creating files: exclusively, under races between callers, with any name.
mod common;

use common::{assert_child_passed, file_with, path, run_child_test_within, tempdir};
use mmap_io::{MemoryMappedFile, MmapIoError};
use std::io::ErrorKind;

/// Threads that open-or-create one file with different sizes, on a new file and on an empty
/// one, never size it under each other's mappings (a cut page raises `SIGBUS`, so this runs
/// in a child process), and leave nothing else in the directory.
#[test]
fn concurrent_open_or_create_of_different_sizes_never_cuts_a_mapping() {
    assert_child_passed(&run_child_test_within("different_sizes_child", 120));
}

#[test]
#[ignore = "run in a child process by concurrent_open_or_create_of_different_sizes_never_cuts_a_mapping"]
fn different_sizes_child() {
    let dir = tempdir();
    for round in 0..1000 {
        let p = path(&dir, &format!("sizes-{round}.bin"));
        if round % 2 == 1 {
            file_with(&dir, &format!("sizes-{round}.bin"), b"");
        }
        let start = std::sync::Barrier::new(4);
        std::thread::scope(|s| {
            for i in 0..4u64 {
                let (p, start) = (&p, &start);
                s.spawn(move || {
                    start.wait();
                    let mmap = MemoryMappedFile::open_or_create(p, 4096 << i).unwrap();
                    let last = mmap.len() - 1;
                    mmap.update_region(last, &[1]).unwrap();
                    assert_eq!(mmap.as_slice(last, 1).unwrap(), &[1]);
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    assert_eq!(mmap.as_slice(last, 1).unwrap(), &[1]);
                });
            }
        });
    }
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.retain(|n| !n.starts_with("sizes-"));
    assert_eq!(names, Vec::<String>::new(), "left behind");
}

#[test]
fn create_new_leaves_nothing_but_the_file() {
    let dir = tempdir();
    let p = path(&dir, "only.bin");
    let mmap = MemoryMappedFile::builder(&p)
        .size(4096)
        .create_new()
        .unwrap();
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["only.bin"]);
    let again = MemoryMappedFile::builder(&p).size(8192).create_new();
    assert!(matches!(again, Err(MmapIoError::Io(e)) if e.kind() == ErrorKind::AlreadyExists));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert_eq!(
        (mmap.len(), std::fs::metadata(&p).unwrap().len()),
        (4096, 4096)
    );
}

/// A name as long as file systems allow (255 bytes) is created like any other: nothing on
/// the way (such as a temporary name) is longer.
#[test]
fn a_file_with_the_longest_name_is_created() {
    let dir = tempdir();
    let p = path(&dir, &"n".repeat(255));
    let mmap = MemoryMappedFile::builder(&p)
        .size(4096)
        .create_new()
        .unwrap();
    assert_eq!(mmap.len(), 4096);
    drop(mmap);
    std::fs::remove_file(&p).unwrap();
    assert_eq!(
        MemoryMappedFile::open_or_create(&p, 8192).unwrap().len(),
        8192
    );
    assert_eq!(MemoryMappedFile::create_rw(&p, 100).unwrap().len(), 100);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
