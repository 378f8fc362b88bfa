//! `tail -f` on a mapped log that another process appends to: a read-only mapping with room
//! reserved follows the file with `refresh`, in place, while it keeps a view of the first
//! line the whole time. No reopening, no copy.
//!
//! The example runs itself a second time as the writer process, which appends lines with
//! plain file writes.
//!
//! Run with `cargo run --example tail`.

use mmap_io::{MemoryMappedFile, MmapIoError, MmapMode};
use std::io::Write;
use std::path::Path;
use std::time::Duration;

const LINES: usize = 200;

fn line(n: usize) -> String {
    format!("line {n:03} of the log\n")
}

/// The writer process: appends the lines one by one.
fn write_lines(path: &Path) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    for n in 1..=LINES {
        file.write_all(line(n).as_bytes())?;
        std::thread::sleep(Duration::from_micros(500));
    }
    Ok(())
}

fn follower(path: &Path) -> Result<MemoryMappedFile, MmapIoError> {
    MemoryMappedFile::builder(path)
        .mode(MmapMode::ReadOnly)
        .reserve(64 << 20)
        .open()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let [_, role, path] = &args[..] {
        if role == "writer" {
            return Ok(write_lines(Path::new(path))?);
        }
    }

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("tail.log");
    std::fs::write(&path, line(0))?;
    let log = follower(&path)?;
    // Held across every refresh: growth in place leaves it valid.
    let first = log.as_slice(0, line(0).len() as u64)?;
    let at = first.as_ptr();

    let mut writer = std::process::Command::new(std::env::current_exe()?)
        .arg("writer")
        .arg(&path)
        .spawn()?;
    let (mut read, mut seen, mut refreshes) = (0u64, 0usize, 0usize);
    loop {
        let done = writer.try_wait()?.is_some();
        let len = match log.refresh() {
            Ok(len) => len,
            // Past the room reserved (64 MiB here), or where none can be reserved (Windows),
            // a read-only mapping cannot grow: a new mapping of the file is needed.
            Err(MmapIoError::ResizeFailed(why)) => {
                writer.kill()?;
                println!("no room to grow here: {why}");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        refreshes += 1;
        // Whole lines only: the writer may be mid-line.
        let fresh = log.as_slice(read, len - read)?;
        if let Some(end) = fresh.iter().rposition(|b| *b == b'\n') {
            for text in fresh[..=end].split_inclusive(|b| *b == b'\n') {
                assert_eq!(
                    text,
                    line(seen).as_bytes(),
                    "lines arrive whole and in order"
                );
                seen += 1;
            }
            read += end as u64 + 1;
        }
        if done && read == len {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(writer.wait()?.success());
    assert_eq!(seen, LINES + 1);
    // The bytes of the first line never moved nor changed while the mapping grew.
    assert_eq!(&*first, line(0).as_bytes());
    assert_eq!(
        log.as_slice(0, 1)?.as_ptr(),
        at,
        "the mapping grew where it was"
    );
    println!(
        "followed {} lines ({read} bytes) appended by another process in {refreshes} \
         refreshes, holding a view of the first line throughout",
        seen - 1
    );
    Ok(())
}
