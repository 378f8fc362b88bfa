//! The crate under valgrind: a program using it runs to the end under memcheck with no
//! error reported (tools such as callgrind and memcheck are how its users profile and check
//! their own programs). Skips, with a printed reason, where valgrind is not installed.
#![cfg(target_os = "linux")]
mod common;

use common::{path, tempdir};
use mmap_io::MemoryMappedFile;

/// What memcheck runs: each main path once, on two threads.
#[test]
#[ignore = "run by runs_under_memcheck, under valgrind"]
fn memcheck_workload() {
    let dir = tempdir();
    let p = path(&dir, "valgrind.bin");
    let page = mmap_io::utils::page_size();
    let map = MemoryMappedFile::create_rw(&p, 4 * page as u64).unwrap();
    map.touch_pages().unwrap();
    map.update_region(1, b"valgrind").unwrap();
    assert_eq!(&*map.as_slice(1, 8).unwrap(), b"valgrind");
    #[cfg(feature = "atomic")]
    {
        let counter = map.atomic_u64(page as u64).unwrap();
        counter.fetch_add(3, std::sync::atomic::Ordering::Relaxed);
    }
    std::thread::scope(|s| {
        s.spawn(|| map.update_region(2 * page as u64, b"other thread").unwrap());
    });
    map.flush().unwrap();
    map.resize(8 * page as u64).unwrap();
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    assert_eq!(&*ro.as_slice(2 * page as u64, 12).unwrap(), b"other thread");
    println!("workload done");
}

#[test]
fn runs_under_memcheck() {
    if let Err(e) = std::process::Command::new("valgrind")
        .arg("--version")
        .output()
    {
        return println!("skipped: valgrind cannot run here: {e}");
    }
    // A deadline, so that a hang under valgrind fails the test instead of hanging the suite.
    let wrapper = [
        "timeout",
        "600",
        "valgrind",
        "--tool=memcheck",
        "--error-exitcode=99",
        "--leak-check=no",
        "-q",
    ];
    let Some(out) = common::run_child_test("memcheck_workload", &wrapper) else {
        return;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stdout.contains("running 1 test") {
        // Valgrind could not start the test binary at all (on 32-bit x86 it needs the C
        // library's debug symbols, for one): nothing of the crate ran.
        return println!("skipped: valgrind cannot run this binary here:\n{stderr}");
    }
    assert!(
        out.status.success() && stdout.contains("workload done"),
        "under valgrind ({}):\n{stdout}\n{stderr}",
        out.status
    );
}
