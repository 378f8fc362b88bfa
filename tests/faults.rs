//! Faults the operating system raises, surfaced as errors: the call fails, the process
//! lives, the file stays consistent. Cases that need a limit or privilege change run in a
//! child process and skip, with a printed reason, where the wrapper is not available.
//! Linux only: the faults are provoked with Linux tools (prlimit, setpriv, unshare, tmpfs,
//! dm-error style write-back failures); `tests/windows.rs` has the Windows ones.
#![cfg(target_os = "linux")]
mod common;

use common::{file_with, path, pattern, read_file, run_child_test, tempdir};
use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode};
use std::os::unix::process::ExitStatusExt;

const CHILD_DIR: &str = "MMAP_IO_TEST_FAULT_DIR";
const DONE: &str = "child-checks-done";

/// Runs child test `name` behind `wrapper`, and checks it ran to the end and passed. A
/// child that prints `skipped:` (its setup is not possible here) makes the test skip too.
fn child_passes(name: &str, wrapper: &[&str]) {
    let dir = tempdir();
    let out = match common::child_test_command(name, wrapper)
        .env(CHILD_DIR, dir.path())
        .output()
    {
        Ok(out) => out,
        Err(e) => return println!("skipped: cannot run {wrapper:?}: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stdout.contains("running 1 test") {
        return println!("skipped: {wrapper:?} cannot run here: {stderr}");
    }
    if let Some(reason) = stdout.lines().find(|l| l.starts_with("skipped:")) {
        return println!("{reason}");
    }
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(DONE),
        "the child did not run its checks:\n{stdout}"
    );
}

/// Runs `cmd` with `args`, discarding its output; whether it succeeded.
fn run_quiet(cmd: &str, args: &[&std::ffi::OsStr]) -> bool {
    std::process::Command::new(cmd)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Mounts a tmpfs of `size` (such as `"1m"`) on `dir`; whether it worked.
fn mount_tmpfs(dir: &std::path::Path, size: &str) -> bool {
    let size = format!("size={size}");
    run_quiet(
        "mount",
        &[
            "-t".as_ref(),
            "tmpfs".as_ref(),
            "-o".as_ref(),
            size.as_ref(),
            "tmpfs".as_ref(),
            dir.as_os_str(),
        ],
    )
}

/// Checks that a fresh read-only mapping of `p` sees exactly `bytes`.
fn assert_read_only_sees(p: &std::path::Path, bytes: &[u8]) {
    let ro = MemoryMappedFile::open_ro(p).unwrap();
    assert_eq!(ro.as_slice(0, bytes.len() as u64).unwrap(), bytes);
}

/// Checks that a child process was killed by SIGBUS.
fn assert_died_by_sigbus(out: &std::process::Output) {
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGBUS),
        "expected death by SIGBUS, got {:?}:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Runs child test `name` in a private mount namespace, with a directory it may mount on.
fn namespace_child_passes(name: &str) {
    child_passes(name, &["unshare", "-m", "--propagation", "private", "--"]);
}

// --- a file truncated by another process while mapped ---

#[test]
fn flush_and_resize_refuse_a_truncated_file_without_touching_it() {
    let dir = tempdir();
    let p = path(&dir, "truncated.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 64 * 1024).unwrap();
    mmap.update_region(0, b"head").unwrap();
    // Another handle (another process would do the same) truncates the file under the map.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(4096)
        .unwrap();

    let err = mmap.flush().unwrap_err();
    assert!(
        matches!(&err, MmapIoError::FlushFailed(m) if m.contains("truncated")),
        "{err}"
    );
    let err = mmap.flush_range(0, 100).unwrap_err();
    assert!(
        matches!(&err, MmapIoError::FlushFailed(m) if m.contains("truncated")),
        "{err}"
    );
    let err = mmap.resize(128 * 1024).unwrap_err();
    assert!(
        matches!(&err, MmapIoError::ResizeFailed(m) if m.contains("truncated")),
        "{err}"
    );
    assert_eq!(mmap.len(), 64 * 1024);
    assert_eq!(
        std::fs::metadata(&p).unwrap().len(),
        4096,
        "the failed resize left the file alone"
    );

    // Once the file is grown back, the mapping works again.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(64 * 1024)
        .unwrap();
    mmap.flush().unwrap();
    assert_eq!(mmap.as_slice(0, 4).unwrap(), b"head");
}

#[test]
fn touching_pages_past_a_truncation_kills_with_sigbus() {
    let Some(out) = run_child_test("sigbus_after_truncation_child", &[]) else {
        return;
    };
    assert_died_by_sigbus(&out);
}

#[test]
#[ignore = "runs in a child process: it is meant to die by SIGBUS"]
fn sigbus_after_truncation_child() {
    let dir = tempdir();
    let p = path(&dir, "gone.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 64 * 1024).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .unwrap()
        .set_len(0)
        .unwrap();
    // The read path makes no system call, so it cannot see the truncation: this read faults.
    let byte = mmap.as_slice(60 * 1024, 1).unwrap()[0];
    println!("read {byte} past the end of the file without a fault");
}

// --- RLIMIT_FSIZE: growing a file past the limit ---

#[test]
fn growing_past_rlimit_fsize_is_an_io_error_and_keeps_the_old_length() {
    child_passes("fsize_limit_child", &["prlimit", "--fsize=4194304", "--"]);
}

#[test]
#[ignore = "runs in a child process under prlimit --fsize"]
fn fsize_limit_child() {
    // SAFETY: ignoring SIGXFSZ makes the kernel return EFBIG instead of killing us.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
    let efbig = |e: &MmapIoError| matches!(e, MmapIoError::Io(io) if io.raw_os_error() == Some(libc::EFBIG));
    let dir = tempdir();

    let p = path(&dir, "grow.bin");
    let mmap = MemoryMappedFile::create_rw(&p, 1 << 20).unwrap();
    mmap.update_region(0, b"kept").unwrap();
    let err = mmap.resize(8 << 20).unwrap_err();
    assert!(efbig(&err), "{err}");
    assert_eq!(mmap.len(), 1 << 20);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 1 << 20);
    assert_eq!(mmap.as_slice(0, 4).unwrap(), b"kept");
    mmap.resize(2 << 20).unwrap(); // within the limit: still fine

    let bytes = pattern(100_000, 3);
    let existing = file_with(&dir, "existing.bin", &bytes);
    let err = MemoryMappedFile::create_rw(&existing, 8 << 20).unwrap_err();
    assert!(efbig(&err), "{err}");
    assert_eq!(
        read_file(&existing),
        bytes,
        "the old file keeps its length and bytes"
    );

    let fresh = path(&dir, "fresh.bin");
    let err = MemoryMappedFile::create_rw(&fresh, 8 << 20).unwrap_err();
    assert!(efbig(&err), "{err}");
    assert!(
        !fresh.exists(),
        "a create that failed leaves no file behind"
    );
    println!("{DONE}");
}

// --- a read-only file, and a read-only mount, opened read-write ---

#[test]
fn a_read_only_file_opened_read_write_is_an_io_error() {
    // As root, file permissions do not apply; without CAP_DAC_OVERRIDE they do.
    child_passes(
        "read_only_file_child",
        &[
            "setpriv",
            "--inh-caps=-dac_override,-dac_read_search",
            "--bounding-set=-dac_override,-dac_read_search",
            "--",
        ],
    );
}

#[test]
#[ignore = "runs in a child process without CAP_DAC_OVERRIDE"]
fn read_only_file_child() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    let bytes = pattern(8192, 4);
    let p = file_with(&dir, "ro.bin", &bytes);
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
    let denied = |r: Result<MemoryMappedFile, MmapIoError>| matches!(r, Err(MmapIoError::Io(e)) if e.kind() == std::io::ErrorKind::PermissionDenied);
    assert!(denied(MemoryMappedFile::open_rw(&p)));
    assert!(denied(mmap_io::load_mmap(&p, MmapMode::ReadWrite)));
    assert!(denied(MemoryMappedFile::create_rw(&p, 100)));
    assert!(denied(MemoryMappedFile::open_or_create(&p, 100)));
    assert!(mmap_io::write_mmap(&p, 0, b"x").is_err());
    assert_read_only_sees(&p, &bytes);
    assert_eq!(read_file(&p), bytes);
    println!("{DONE}");
}

#[test]
fn a_read_only_mount_opened_read_write_is_an_io_error() {
    namespace_child_passes("read_only_mount_child");
}

#[test]
#[ignore = "runs in a child process in its own mount namespace"]
fn read_only_mount_child() {
    let mnt = std::path::PathBuf::from(std::env::var_os(CHILD_DIR).unwrap());
    if !mount_tmpfs(&mnt, "1m") {
        println!("skipped: cannot mount a tmpfs");
        return;
    }
    let bytes = pattern(8192, 5);
    let p = mnt.join("on-ro-mount.bin");
    std::fs::write(&p, &bytes).unwrap();
    assert!(run_quiet(
        "mount",
        &["-o".as_ref(), "remount,ro".as_ref(), mnt.as_os_str()]
    ));
    let erofs = |r: Result<MemoryMappedFile, MmapIoError>| matches!(r, Err(MmapIoError::Io(e)) if e.raw_os_error() == Some(libc::EROFS));
    assert!(erofs(MemoryMappedFile::open_rw(&p)));
    assert!(erofs(MemoryMappedFile::create_rw(&p, 100)));
    assert!(erofs(MemoryMappedFile::create_rw(mnt.join("new.bin"), 100)));
    assert_read_only_sees(&p, &bytes);
    println!("{DONE}");
}

// --- the process's mapping count exhausted ---

#[test]
fn exhausting_the_mapping_count_is_an_io_error() {
    child_passes("map_count_child", &[]);
}

#[test]
#[ignore = "runs in a child process: it uses up every mapping the process may have"]
fn map_count_child() {
    let dir = tempdir();
    let page = file_with(&dir, "page.bin", &[7u8; 4096]);
    let target = file_with(&dir, "target.bin", &pattern(8192, 6));
    let file = std::fs::File::open(&page).unwrap();
    // Map the same page until the kernel refuses: separate mappings of offset 0 never merge.
    let mut hoard = Vec::new();
    loop {
        // SAFETY: the file is never truncated; the mappings are only kept, never read.
        match unsafe { memmap2::Mmap::map(&file) } {
            Ok(m) => hoard.push(m),
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::ENOMEM), "{e}");
                break;
            }
        }
    }
    let enomem = |r: Result<MemoryMappedFile, MmapIoError>| match r {
        Err(MmapIoError::Io(e)) => e.raw_os_error() == Some(libc::ENOMEM),
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => false,
    };
    assert!(enomem(MemoryMappedFile::open_ro(&target)));
    assert!(enomem(MemoryMappedFile::open_rw(&target)));
    assert!(enomem(mmap_io::load_mmap(&target, MmapMode::ReadOnly)));
    assert!(mmap_io::AnonymousMmap::new(4096).is_err());
    assert_eq!(
        read_file(&target),
        pattern(8192, 6),
        "the file is untouched"
    );
    drop(hoard);
    assert_eq!(MemoryMappedFile::open_ro(&target).unwrap().len(), 8192);
    println!("{DONE}");
}

#[test]
fn a_create_whose_mapping_fails_leaves_no_file_behind() {
    child_passes("map_fails_child", &[]);
}

#[test]
#[ignore = "runs in a child process: it caps the process's address space"]
fn map_fails_child() {
    let dir = tempdir();
    // Cap the address space a little above what the process uses: sizing a file sparsely
    // still works, mapping a large part of it does not.
    common::cap_address_space(256 << 20);
    // Within the size limit (2 GiB on 32-bit targets), beyond the cap.
    const HUGE: u64 = if cfg!(target_pointer_width = "64") {
        64 << 30
    } else {
        1 << 30
    };
    let p = path(&dir, "unmappable.bin");
    let results = [
        MemoryMappedFile::create_rw(&p, HUGE),
        MemoryMappedFile::builder(&p).size(HUGE).create_new(),
        MemoryMappedFile::builder(&p).size(HUGE).open_or_create(),
        MemoryMappedFile::open_or_create(&p, HUGE),
    ];
    for (i, result) in results.into_iter().enumerate() {
        let err = result.map(drop).unwrap_err();
        assert!(matches!(err, MmapIoError::Io(_)), "path {i}: {err}");
        assert!(!p.exists(), "path {i} left the file it created behind");
    }
    println!("{DONE}");
}

// --- a full file system (a 1 MiB tmpfs in a private mount namespace) ---

#[test]
fn a_full_disk_is_an_io_error_with_preallocate_or_from_a_copy_and_sigbus_from_a_view() {
    namespace_child_passes("full_disk_child");
}

#[test]
#[ignore = "runs in a child process in its own mount namespace"]
fn full_disk_child() {
    let mnt = std::path::PathBuf::from(std::env::var_os(CHILD_DIR).unwrap());
    if !mount_tmpfs(&mnt, "1m") {
        println!("skipped: cannot mount a tmpfs");
        return;
    }
    let enospc = |e: &MmapIoError| matches!(e, MmapIoError::Io(io) if io.raw_os_error() == Some(libc::ENOSPC));
    let prealloc = |name: &str| MemoryMappedFile::builder(mnt.join(name)).preallocate(true);

    // Creating more than fits fails up front, and leaves no file.
    let err = prealloc("big.bin").size(4 << 20).create().unwrap_err();
    assert!(enospc(&err), "{err}");
    assert!(!mnt.join("big.bin").exists());
    let err = prealloc("big2.bin")
        .size(4 << 20)
        .open_or_create()
        .unwrap_err();
    assert!(enospc(&err), "{err}");
    assert!(!mnt.join("big2.bin").exists());

    // Growing past the space fails up front, and the mapping and file keep their length.
    let small = prealloc("small.bin").size(256 << 10).create().unwrap();
    small.update_region(0, b"kept").unwrap();
    let err = small.resize(4 << 20).unwrap_err();
    assert!(enospc(&err), "{err}");
    assert_eq!(small.len(), 256 << 10);
    assert_eq!(
        std::fs::metadata(mnt.join("small.bin")).unwrap().len(),
        256 << 10
    );
    assert_eq!(small.as_slice(0, 4).unwrap(), b"kept");
    // Every page of a preallocated mapping can be written: no SIGBUS is possible.
    for page in 0..small.len() / 4096 {
        small.update_region(page * 4096, &[1; 4096]).unwrap();
    }
    small.flush().unwrap();
    drop(small);
    std::fs::remove_file(mnt.join("small.bin")).unwrap();

    // Without preallocation the same create succeeds (the file is sparse). A copy into a
    // page the file system has no space for is an error (caught where copies are
    // protected)...
    #[cfg(any(
        all(target_arch = "x86_64", target_pointer_width = "64"),
        all(target_env = "gnu", target_arch = "x86", target_feature = "sse2")
    ))]
    {
        let sparse = MemoryMappedFile::create_rw(mnt.join("sparse1.bin"), 4 << 20).unwrap();
        let failed =
            (0..(4 << 20) / 4096).find_map(|page| sparse.update_region(page * 4096, &[1]).err());
        assert!(matches!(failed, Some(MmapIoError::Io(_))), "{failed:?}");
        drop(sparse);
        std::fs::remove_file(mnt.join("sparse1.bin")).unwrap();
    }
    // ...and a store through a view there kills the writer with SIGBUS: shown in a
    // grandchild.
    let out = common::child_test_command("sparse_write_on_full_disk_grandchild", &[])
        .env(CHILD_DIR, &mnt)
        .output()
        .unwrap();
    assert_died_by_sigbus(&out);
    println!("{DONE}");
}

#[test]
#[ignore = "runs in a grandchild process: it is meant to die by SIGBUS"]
fn sparse_write_on_full_disk_grandchild() {
    let mnt = std::path::PathBuf::from(std::env::var_os(CHILD_DIR).unwrap());
    let mmap = MemoryMappedFile::create_rw(mnt.join("sparse.bin"), 4 << 20).unwrap();
    for page in 0..(4 << 20) / 4096 {
        mmap.as_slice_mut(page * 4096, 1).unwrap()[0] = 1;
    }
    println!("wrote 4 MiB to a 1 MiB file system without a fault");
}

// --- write-back failure: an ext4 image on a tmpfs too small to hold it, loop-mounted ---

#[test]
fn a_writeback_failure_is_flush_failed_and_never_lost() {
    namespace_child_passes("writeback_failure_child");
}

#[test]
#[ignore = "runs in a child process in its own mount namespace"]
fn writeback_failure_child() {
    use mmap_io::flush::FlushPolicy;
    let base = std::path::PathBuf::from(std::env::var_os(CHILD_DIR).unwrap());
    let (backing, fs) = (base.join("backing"), base.join("fs"));
    std::fs::create_dir_all(&backing).unwrap();
    std::fs::create_dir_all(&fs).unwrap();
    let image = backing.join("ext4.img");
    let ready = mount_tmpfs(&backing, "8m")
        && std::fs::File::create(&image)
            .and_then(|f| f.set_len(64 << 20))
            .is_ok()
        && run_quiet(
            "mkfs.ext4",
            &[
                "-q".as_ref(),
                "-F".as_ref(),
                "-O".as_ref(),
                "^has_journal".as_ref(),
                image.as_os_str(),
            ],
        )
        && run_quiet(
            "mount",
            &[
                "-o".as_ref(),
                "loop,errors=continue".as_ref(),
                image.as_os_str(),
                fs.as_os_str(),
            ],
        );
    if !ready {
        println!("skipped: cannot build a loop-mounted ext4 on a small tmpfs");
        return;
    }

    // 24 MiB of dirty pages cannot be written back through an 8 MiB backing store.
    let mmap = MemoryMappedFile::create_rw(fs.join("data.bin"), 24 << 20).unwrap();
    fill(&mmap, 0xAB);
    // Two flushes at once: the kernel reports the error to one sync only, and the other
    // still returns it (it was in progress, or it is the next one).
    let results = std::thread::scope(|s| {
        let (a, b) = (s.spawn(|| mmap.flush()), s.spawn(|| mmap.flush()));
        [a.join().unwrap(), b.join().unwrap()]
    });
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Err(MmapIoError::FlushFailed(_)))),
        "a concurrent flush returned Ok for pages the kernel failed to write: {results:?}"
    );
    println!("two concurrent flushes: {results:?}");

    // The background flusher meets the error first; the next flush() still reports it.
    let bg = MemoryMappedFile::builder(fs.join("bg.bin"))
        .size(24 << 20)
        .flush_policy(FlushPolicy::EveryMillis(5))
        .create()
        .unwrap();
    fill(&bg, 0xCD);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let r = bg.flush();
    assert!(
        matches!(r, Err(MmapIoError::FlushFailed(_))),
        "the background flusher's error was lost: {r:?}"
    );
    println!(
        "flush after the background flusher failed: {}",
        r.unwrap_err()
    );

    // A write's policy flush meets the error: the write returns it, and the next flush()
    // is still told of it.
    let policy = MemoryMappedFile::builder(fs.join("policy.bin"))
        .size(24 << 20)
        .flush_policy(FlushPolicy::EveryBytes(8 << 20))
        .create()
        .unwrap();
    let failed = (0..policy.len() / 4096)
        .map(|page| policy.update_region(page * 4096, &[0xEF; 4096]))
        .find(Result::is_err);
    assert!(
        matches!(failed, Some(Err(MmapIoError::FlushFailed(_)))),
        "no write returned its policy flush's error: {failed:?}"
    );
    let r = policy.flush();
    assert!(
        matches!(r, Err(MmapIoError::FlushFailed(_))),
        "the policy flush took the error from the next flush: {r:?}"
    );

    drop((mmap, bg, policy));
    let _ = run_quiet("umount", &[fs.as_os_str()]);
    println!("{DONE}");
}

/// Writes `byte` over every page of `mmap`.
fn fill(mmap: &MemoryMappedFile, byte: u8) {
    for page in 0..mmap.len() / 4096 {
        mmap.update_region(page * 4096, &[byte; 4096]).unwrap();
    }
}
