//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

use mmap_io::{MemoryMappedFile, MmapIoError};
use std::path::{Path, PathBuf};

/// A fresh temporary directory (on the same file system as the build, not tmpfs, so that
/// writeback is real).
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("mmap-io-test")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("create temp dir")
}

/// `dir/name` as a path.
pub fn path(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// Writes `bytes` to a new file at `dir/name` and returns its path.
pub fn file_with(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = path(dir, name);
    std::fs::write(&p, bytes).expect("write fixture");
    p
}

/// A recognisable byte pattern of `len` bytes.
pub fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// The file's bytes as the file system returns them.
pub fn read_file(p: &Path) -> Vec<u8> {
    std::fs::read(p).expect("read file back")
}

/// The raw value of one field of the `/proc/self/smaps` entry of the mapping that contains
/// `addr` (such as `"12 kB"` for `Rss`, or the flags for `VmFlags`).
///
/// Panics if no mapping contains `addr` or the field is missing: both mean the test is
/// looking at the wrong thing.
pub fn smaps_field(addr: usize, field: &str) -> String {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("read /proc/self/smaps");
    let mut inside = false;
    for line in smaps.lines() {
        if let Some((start, end)) = mapping_header(line) {
            inside = (start..end).contains(&addr);
            continue;
        }
        if !inside {
            continue;
        }
        if let Some(rest) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
            return rest.trim().to_owned();
        }
    }
    panic!("no smaps field {field} for address {addr:#x}");
}

/// One field, in kB, of the smaps entry of the mapping that contains `addr`.
pub fn smaps_kb(addr: usize, field: &str) -> u64 {
    let value = smaps_field(addr, field);
    value
        .trim_end_matches("kB")
        .trim()
        .parse()
        .expect("smaps value in kB")
}

fn mapping_header(line: &str) -> Option<(usize, usize)> {
    let range = line.split_whitespace().next()?;
    let (a, b) = range.split_once('-')?;
    Some((
        usize::from_str_radix(a, 16).ok()?,
        usize::from_str_radix(b, 16).ok()?,
    ))
}

/// Dirty kilobytes of the mapping behind `mmap`, shared and private together.
pub fn dirty_kb(mmap: &MemoryMappedFile) -> u64 {
    // SAFETY: the address is only compared against /proc/self/smaps, never dereferenced.
    let addr = unsafe { mmap.as_ptr() } as usize;
    smaps_kb(addr, "Shared_Dirty") + smaps_kb(addr, "Private_Dirty")
}

/// Resident kilobytes of the mapping behind `mmap`.
pub fn resident_kb(mmap: &MemoryMappedFile) -> u64 {
    // SAFETY: as in `dirty_kb`.
    let addr = unsafe { mmap.as_ptr() } as usize;
    smaps_kb(addr, "Rss")
}

/// Names of this process's threads.
pub fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

/// How many threads of this process carry `name`.
pub fn threads_named(name: &str) -> usize {
    thread_names().iter().filter(|n| *n == name).count()
}

/// Polls `cond` every few milliseconds until it holds or `secs` seconds pass.
pub fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    cond()
}

/// A command that runs the `#[ignore]`d test `name` of this test binary in a child
/// process, behind `wrapper` (a command and its arguments, such as `setpriv ...`; empty for
/// none).
pub fn child_test_command(name: &str, wrapper: &[&str]) -> std::process::Command {
    let exe = std::env::current_exe().expect("test binary path");
    let mut cmd = match wrapper.split_first() {
        Some((program, args)) => {
            let mut cmd = std::process::Command::new(program);
            cmd.args(args).arg(&exe);
            cmd
        }
        None => std::process::Command::new(&exe),
    };
    cmd.args([
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd
}

/// Runs [`child_test_command`] to completion and returns its output.
///
/// Returns `None`, after printing why, when the wrapper cannot be started here.
pub fn run_child_test(name: &str, wrapper: &[&str]) -> Option<std::process::Output> {
    match child_test_command(name, wrapper).output() {
        Ok(out) => Some(out),
        Err(e) => {
            println!("skipped: cannot run {wrapper:?}: {e}");
            None
        }
    }
}

/// A `resize` running on another thread, to show it waits for views held on this one.
pub struct BackgroundResize {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl BackgroundResize {
    /// Starts `mmap.resize(new_len)` on another thread and gives it 200 ms to run, so a
    /// resize that does not wait would be done by the time this returns.
    pub fn start(mmap: &std::sync::Arc<MemoryMappedFile>, new_len: u64) -> Self {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let (mmap, done) = (std::sync::Arc::clone(mmap), std::sync::Arc::clone(&done));
            std::thread::spawn(move || {
                mmap.resize(new_len).unwrap();
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        std::thread::sleep(std::time::Duration::from_millis(200));
        Self { done, thread }
    }

    /// Whether the resize has finished.
    pub fn is_done(&self) -> bool {
        self.done.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Waits for the resize to finish.
    pub fn join(self) {
        let Self { done, thread } = self;
        thread.join().unwrap();
        assert!(done.load(std::sync::atomic::Ordering::SeqCst));
    }
}

/// Runs the `#[ignore]`d test `name` of this test binary in a child process and fails if
/// it does not finish within `secs` seconds (it is killed then), so that a hang or a crash
/// in it is a test failure, not a hung or dead suite. Returns its output.
pub fn run_child_test_within(name: &str, secs: u64) -> std::process::Output {
    run_child_test_env_within(name, &[], secs)
}

/// [`run_child_test_within`] with the environment variables `env` set for the child.
pub fn run_child_test_env_within(
    name: &str,
    env: &[(&str, &str)],
    secs: u64,
) -> std::process::Output {
    use std::process::Stdio;
    let spawn = || {
        child_test_command(name, &[])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    };
    // Wine's process creation fails now and then under load (`ERROR_INTERNAL_ERROR`, 1359):
    // a failure to start is tried again twice before it fails the test.
    let mut child = spawn()
        .or_else(|_| {
            std::thread::sleep(std::time::Duration::from_millis(200));
            spawn()
        })
        .or_else(|_| {
            std::thread::sleep(std::time::Duration::from_secs(1));
            spawn()
        })
        .expect("start the child test");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().expect("poll the child test").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("reap the child test");
            panic!(
                "child test {name} hung: killed after {secs} s\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait_with_output().expect("collect the child test")
}

/// Asserts that a child test passed, showing its output otherwise.
pub fn assert_child_passed(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "child test failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether `result` is an `InvalidMode` refusal.
pub fn is_invalid_mode<T>(result: Result<T, MmapIoError>) -> bool {
    matches!(result, Err(MmapIoError::InvalidMode(_)))
}

/// The error's message, or "Ok".
pub fn message<T>(result: Result<T, MmapIoError>) -> String {
    match result {
        Err(e) => e.to_string(),
        Ok(_) => "Ok".to_owned(),
    }
}

/// Whether a write of byte `at` would wait for a view: asked with `try_update_region` from a
/// thread that holds none (which writes a 0 there if it does not wait).
pub fn write_waits(mmap: &MemoryMappedFile, at: u64) -> bool {
    std::thread::scope(|s| {
        s.spawn(|| !mmap.try_update_region(at, &[0]).unwrap())
            .join()
            .unwrap()
    })
}

/// Caps this process's address space `extra` bytes above what it uses now (`RLIMIT_AS`):
/// sizing a file sparsely still works, mapping a large part of it does not. For tests that
/// run in a child process.
#[cfg(target_os = "linux")]
pub fn cap_address_space(extra: u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let vm_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    let cap = (vm_kb << 10) + extra;
    let limit = libc::rlimit {
        rlim_cur: cap as libc::rlim_t,
        rlim_max: cap as libc::rlim_t,
    };
    // SAFETY: a plain system call with a valid pointer to a local.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) }, 0);
}
