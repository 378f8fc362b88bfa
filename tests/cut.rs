//! A file cut under its mapping by someone else (another descriptor, another process):
//! every copy the crate makes returns an error instead of killing the process with SIGBUS,
//! faults outside those copies still kill it, and handlers installed before the crate's
//! still get their own faults. Each case runs in a child process, since a failure is a
//! death by signal. Linux on x86_64 and i686, where the copies are protected.
#![cfg(all(
    target_os = "linux",
    any(
        all(target_arch = "x86_64", target_pointer_width = "64"),
        all(target_env = "gnu", target_arch = "x86", target_feature = "sse2")
    )
))]
mod common;

use common::{
    assert_child_passed, file_with, path, pattern, run_child_test_env_within,
    run_child_test_within, tempdir,
};
use mmap_io::{MemoryMappedFile, MmapIoError};
use std::io::{BufRead, ErrorKind, Read};
use std::os::unix::fs::FileExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;

fn page() -> usize {
    mmap_io::utils::page_size()
}

/// Sets the file's length through a descriptor of its own, bypassing the crate.
fn cut(p: &Path, len: usize) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(p)
        .unwrap()
        .set_len(len as u64)
        .unwrap();
}

/// Asserts `result` is the error of a copy that met the cut at `offset`.
#[track_caller]
fn assert_cut_at<T: std::fmt::Debug>(result: Result<T, MmapIoError>, offset: usize) {
    match result {
        Err(MmapIoError::Io(e)) => {
            assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");
            assert!(e.to_string().contains(&format!("offset {offset}")), "{e}");
        }
        other => panic!("expected the cut at {offset}, got {other:?}"),
    }
}

#[test]
fn every_copying_call_past_a_cut_is_an_error_and_the_process_lives() {
    assert_child_passed(&run_child_test_within("copies_past_a_cut_child", 60));
}

#[test]
#[ignore = "runs in a child process: a failure kills it with SIGBUS"]
fn copies_past_a_cut_child() {
    let page = page();
    let dir = tempdir();
    let bytes = pattern(4 * page, 1);
    let p = file_with(&dir, "cut.bin", &bytes);
    let rw = std::sync::Arc::new(MemoryMappedFile::open_rw(&p).unwrap());
    let ro = MemoryMappedFile::open_ro(&p).unwrap();
    #[cfg(feature = "cow")]
    let cow = MemoryMappedFile::open_cow(&p).unwrap();
    cut(&p, page);

    // Reads: the error names where the file ends, and the bytes before it are in place.
    #[cfg(feature = "cow")]
    let readers: [&MemoryMappedFile; 3] = [&rw, &ro, &cow];
    #[cfg(not(feature = "cow"))]
    let readers: [&MemoryMappedFile; 2] = [&rw, &ro];
    for m in readers {
        let mut buf = vec![0u8; 2 * page];
        assert_cut_at(m.read_into(0, &mut buf), page);
        assert_eq!(buf[..page], bytes[..page]);
        let mut small = [0u8; 8];
        assert_cut_at(m.read_into(2 * page as u64, &mut small), 2 * page);

        // The reader hands out what precedes the cut (a short read), then the error.
        let mut reader = m.reader();
        reader.set_position(page as u64 - 10);
        let mut got = [0u8; 100];
        assert_eq!(reader.read(&mut got).unwrap(), 10);
        assert_eq!(got[..10], bytes[page - 10..page]);
        let e = reader.read(&mut got).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");
        reader.set_position(page as u64 - 10);
        assert_eq!(reader.fill_buf().unwrap(), &bytes[page - 10..page]);
        reader.consume(10);
        let e = reader.fill_buf().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof, "{e}");
        // What lies before the cut still reads.
        reader.set_position(0);
        let mut head = vec![0u8; page];
        reader.read_exact(&mut head).unwrap();
        assert_eq!(head, bytes[..page]);

        assert_cut_at(m.touch_pages(), page);
        assert_cut_at(m.touch_pages_range(3 * page as u64, 1), 3 * page);
        m.touch_pages_range(0, page as u64).unwrap();

        #[cfg(feature = "iterator")]
        {
            let mut chunks = m.chunks_owned(page);
            assert_eq!(chunks.next().unwrap().unwrap(), bytes[..page]);
            assert_cut_at(chunks.next().unwrap(), page);
            assert!(chunks.next().is_none());
            let mut pages = m.pages_owned();
            assert_eq!(pages.next().unwrap().unwrap(), bytes[..page]);
            assert_cut_at(pages.next().unwrap(), page);
        }
        #[cfg(feature = "bytes")]
        {
            assert_cut_at(m.read_bytes(page as u64 - 1, 2), page);
            let view = m.as_slice(page as u64, 16).unwrap();
            let converted =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| bytes::Bytes::from(view)));
            assert!(converted.is_err(), "a view past the cut converted to Bytes");
        }
    }

    // Writes, small and large; one across the cut writes what precedes it.
    assert_cut_at(rw.update_region(page as u64 + 8, b"12345678"), page + 8);
    assert_cut_at(rw.update_region(page as u64 - 8, b"0123456789abcdef"), page);
    assert_eq!(rw.as_slice(page as u64 - 8, 8).unwrap(), b"01234567");
    assert_cut_at(rw.update_region(page as u64 - 100, &[9; 1000]), page);
    assert_eq!(rw.as_slice(page as u64 - 100, 100).unwrap(), &[9; 100][..]);
    assert_cut_at(rw.try_update_region(2 * page as u64, b"late"), 2 * page);
    let segment = mmap_io::segment::SegmentMut::new(rw.clone(), 3 * page as u64, 16).unwrap();
    assert_cut_at(segment.write(b"segment"), 3 * page);
    #[cfg(feature = "async")]
    assert_cut_at(
        futures_lite::future::block_on(rw.update_region_async(2 * page as u64, b"async")),
        2 * page,
    );

    // Grown back, the same mapping reads and writes again (zeros where the file grew).
    cut(&p, 4 * page);
    rw.update_region(3 * page as u64, b"back").unwrap();
    let mut buf = vec![0u8; 8];
    ro.read_into(3 * page as u64, &mut buf).unwrap();
    assert_eq!(&buf, b"back\0\0\0\0");
    // And other mappings work as before.
    let other = MemoryMappedFile::create_rw(path(&dir, "other.bin"), page as u64).unwrap();
    other.update_region(0, b"fine").unwrap();
    assert_eq!(other.as_slice(0, 4).unwrap(), b"fine");
    println!("checks done");
}

/// The environment variables that pass a path and a length to [`truncate_child`].
const TRUNCATE_PATH: &str = "MMAP_IO_TEST_TRUNCATE_PATH";
const TRUNCATE_LEN: &str = "MMAP_IO_TEST_TRUNCATE_LEN";

#[test]
fn a_cut_by_another_process_is_an_error() {
    assert_child_passed(&run_child_test_within("cut_by_another_process_child", 60));
}

#[test]
#[ignore = "runs in a child process: a failure kills it with SIGBUS"]
fn cut_by_another_process_child() {
    let page = page();
    let dir = tempdir();
    let bytes = pattern(8 * page, 2);
    let p = file_with(&dir, "shared.bin", &bytes);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    // Another process (a grandchild) cuts the file to two pages.
    let len = (2 * page).to_string();
    let out = run_child_test_env_within(
        "truncate_child",
        &[(TRUNCATE_PATH, p.to_str().unwrap()), (TRUNCATE_LEN, &len)],
        60,
    );
    assert_child_passed(&out);
    assert_eq!(std::fs::metadata(&p).unwrap().len(), 2 * page as u64);
    let mut buf = vec![0u8; 8 * page];
    assert_cut_at(mmap.read_into(0, &mut buf), 2 * page);
    assert_eq!(buf[..2 * page], bytes[..2 * page]);
    assert_cut_at(mmap.update_region(5 * page as u64, &[1; 64]), 5 * page);
    // `write_mmap` maps the file as it is now: a write past its new end does not fit.
    assert!(matches!(
        mmap_io::write_mmap(&p, page as u64, &bytes[..2 * page]),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    println!("checks done");
}

#[test]
#[ignore = "run by cut_by_another_process_child: cuts a file from another process"]
fn truncate_child() {
    let path = std::env::var(TRUNCATE_PATH).unwrap();
    let len: usize = std::env::var(TRUNCATE_LEN).unwrap().parse().unwrap();
    cut(Path::new(&path), len);
}

/// What a child installs for SIGBUS before its first mapping (and so before the crate's
/// handler), in `ACTION`.
const ACTION: &str = "MMAP_IO_TEST_PREVIOUS_ACTION";
const CAUGHT: &str = "the crate's copy was caught";
const SIGINFO_HANDLER_EXIT: i32 = 42;
const PLAIN_HANDLER_EXIT: i32 = 43;

extern "C" fn exit_siginfo(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: `_exit` is async-signal-safe.
    unsafe { libc::_exit(SIGINFO_HANDLER_EXIT) }
}

extern "C" fn exit_plain(_: libc::c_int) {
    // SAFETY: `_exit` is async-signal-safe.
    unsafe { libc::_exit(PLAIN_HANDLER_EXIT) }
}

/// Writes a line and returns: with `SA_RESETHAND`, the fault then comes back to the
/// default action.
extern "C" fn note_and_return(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let line = b"reset handler ran\n";
    // SAFETY: `write` is async-signal-safe; the buffer is valid.
    unsafe { libc::write(1, line.as_ptr().cast(), line.len()) };
}

/// Each action installed before the crate's, and what then ends a child that faults outside
/// the crate's copies (or is sent SIGBUS, for the `kill-` ones): the exit code or signal,
/// and a line its output must hold.
fn previous_actions() -> [(&'static str, Result<i32, i32>, &'static str); 8] {
    [
        ("rust-std", Err(libc::SIGBUS), CAUGHT),
        ("default", Err(libc::SIGBUS), CAUGHT),
        ("ignore", Err(libc::SIGBUS), CAUGHT),
        ("siginfo", Ok(SIGINFO_HANDLER_EXIT), CAUGHT),
        ("plain", Ok(PLAIN_HANDLER_EXIT), CAUGHT),
        ("resethand", Err(libc::SIGBUS), "reset handler ran"),
        ("kill-default", Err(libc::SIGBUS), CAUGHT),
        ("kill-ignore", Ok(0), "still alive after SIGBUS was sent"),
    ]
}

#[test]
fn faults_outside_the_copies_reach_the_action_installed_before() {
    for (action, end, line) in previous_actions() {
        let out = run_child_test_env_within("previous_action_child", &[(ACTION, action)], 60);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let got = match out.status.signal() {
            Some(signal) => Err(signal),
            None => Ok(out.status.code().unwrap()),
        };
        assert_eq!(
            got,
            end,
            "{action}: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            stdout.contains(CAUGHT),
            "{action}: the copy was not caught:\n{stdout}"
        );
        assert_eq!(stdout.matches(line).count(), 1, "{action}:\n{stdout}");
    }
}

#[test]
#[ignore = "runs in a child process: it ends by the action it installs for SIGBUS"]
fn previous_action_child() {
    let action = std::env::var(ACTION).unwrap();
    let (handler, flags) = match action.as_str() {
        "rust-std" => (None, 0),
        "default" | "kill-default" => (Some(libc::SIG_DFL), 0),
        "ignore" | "kill-ignore" => (Some(libc::SIG_IGN), 0),
        "siginfo" => (Some(exit_siginfo as *const () as usize), libc::SA_SIGINFO),
        "plain" => (Some(exit_plain as *const () as usize), 0),
        "resethand" => (
            Some(note_and_return as *const () as usize),
            libc::SA_SIGINFO | libc::SA_RESETHAND,
        ),
        other => panic!("unknown action {other}"),
    };
    if let Some(handler) = handler {
        // SAFETY: a zeroed `sigaction` is valid; the handlers have the signature the flags
        // say.
        unsafe {
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = handler;
            new.sa_flags = flags;
            libc::sigemptyset(&mut new.sa_mask);
            assert_eq!(libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()), 0);
        }
    }
    let page = page();
    let dir = tempdir();
    let p = file_with(&dir, "mine.bin", &pattern(4 * page, 4));
    let mmap = MemoryMappedFile::open_ro(&p).unwrap();
    cut(&p, page);
    assert_cut_at(mmap.read_into(3 * page as u64, &mut [0u8; 16]), 3 * page);
    println!("{CAUGHT}");
    if action.starts_with("kill-") {
        // SAFETY: sends this process SIGBUS.
        unsafe { libc::kill(libc::getpid(), libc::SIGBUS) };
        println!("still alive after SIGBUS was sent");
        return;
    }
    // A load through a view is the program's own: it faults, for the earlier action.
    let byte = mmap.as_slice(3 * page as u64, 1).unwrap()[0];
    println!("read {byte} past the end of the file without a fault");
}

#[test]
fn eight_threads_copying_while_the_file_is_cut_and_regrown_never_die_nor_misread() {
    assert_child_passed(&run_child_test_within("copying_while_cut_child", 120));
}

#[test]
#[ignore = "runs in a child process: a failure kills it with SIGBUS"]
fn copying_while_cut_child() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
    let page = page();
    let len = 16 * page;
    let dir = tempdir();
    let bytes = pattern(len, 5);
    let p = file_with(&dir, "churn.bin", &bytes);
    let mmap = MemoryMappedFile::open_rw(&p).unwrap();
    let stop = AtomicBool::new(false);
    let (faults, copies) = (AtomicUsize::new(0), AtomicUsize::new(0));
    std::thread::scope(|s| {
        s.spawn(|| {
            let file = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while std::time::Instant::now() < deadline {
                file.set_len(page as u64).unwrap();
                // Long enough for the copying threads to meet the cut.
                std::thread::sleep(std::time::Duration::from_micros(200));
                file.set_len(len as u64).unwrap();
                file.write_all_at(&bytes[page..], page as u64).unwrap();
            }
            stop.store(true, Relaxed);
        });
        for t in 0..8u64 {
            let (mmap, bytes, stop) = (&mmap, &bytes, &stop);
            let (faults, copies) = (&faults, &copies);
            s.spawn(move || {
                let mut seed = t.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                let mut buf = vec![0u8; 3 * page];
                while !stop.load(Relaxed) {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let at = seed as usize % (len - 1);
                    let n = 1 + (seed >> 32) as usize % (3 * page).min(len - at);
                    let buf = &mut buf[..n];
                    buf.fill(0xEE);
                    // Bytes up to `good` must be the file's: its pattern, or zeros where it
                    // was regrown and not yet rewritten (the first page is never cut).
                    let good = match mmap.read_into(at as u64, buf) {
                        Ok(()) => n,
                        Err(MmapIoError::Io(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                            faults.fetch_add(1, Relaxed);
                            let msg = e.to_string();
                            let offset: usize = msg
                                .split("offset ")
                                .nth(1)
                                .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
                                .and_then(|d| d.parse().ok())
                                .unwrap_or_else(|| panic!("no offset in {msg}"));
                            assert!(offset >= page && offset <= at + n, "{msg}");
                            offset - at.min(offset)
                        }
                        Err(e) => panic!("{e}"),
                    };
                    copies.fetch_add(1, Relaxed);
                    for (i, &b) in buf[..good.min(n)].iter().enumerate() {
                        let want = bytes[at + i];
                        assert!(
                            b == want || (b == 0 && at + i >= page),
                            "byte {} read as {b}, the file has {want}",
                            at + i
                        );
                    }
                    // Writes of the file's own bytes keep it as it is: they succeed or fail.
                    if seed % 4 == 0 {
                        let w = at.min(len - 64);
                        match mmap.update_region(w as u64, &bytes[w..w + 64]) {
                            Ok(()) => {}
                            Err(MmapIoError::Io(e)) if e.kind() == ErrorKind::UnexpectedEof => {}
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
            });
        }
    });
    let (faults, copies) = (faults.into_inner(), copies.into_inner());
    println!("{copies} copies, {faults} met the cut");
    assert!(
        faults > 0,
        "no copy met the cut in {copies}: the test did not test"
    );
}
