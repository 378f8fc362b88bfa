//! An append-only log: a length header, records after it, growth by resize, durability by a
//! flush policy, and recovery on reopen.
//!
//! `cargo run --example log_appender`

use mmap_io::errors::Result;
use mmap_io::flush::FlushPolicy;
use mmap_io::MemoryMappedFile;

const HEADER: u64 = 8;

struct Log {
    mmap: MemoryMappedFile,
    end: u64,
}

impl Log {
    fn open(path: &std::path::Path) -> Result<Self> {
        let mmap = MemoryMappedFile::builder(path)
            .size(4096)
            .flush_policy(FlushPolicy::EveryBytes(16 * 1024))
            .open_or_create()?;
        let mut header = [0u8; 8];
        mmap.read_into(0, &mut header)?;
        let end = u64::from_le_bytes(header).max(HEADER);
        Ok(Self { mmap, end })
    }

    fn append(&mut self, record: &[u8]) -> Result<()> {
        let needed = self.end + 4 + record.len() as u64;
        if needed > self.mmap.len() {
            self.mmap.resize(needed.next_power_of_two())?;
        }
        self.mmap
            .update_region(self.end, &(record.len() as u32).to_le_bytes())?;
        self.mmap.update_region(self.end + 4, record)?;
        self.end = needed;
        // The header last: a crash before this line leaves the record invisible, not torn.
        self.mmap.update_region(0, &self.end.to_le_bytes())
    }

    fn records(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut at = HEADER;
        while at < self.end {
            let mut len = [0u8; 4];
            self.mmap.read_into(at, &mut len)?;
            let len = u64::from(u32::from_le_bytes(len));
            out.push(String::from_utf8_lossy(&self.mmap.as_slice(at + 4, len)?).into_owned());
            at += 4 + len;
        }
        Ok(out)
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("app.log");

    let mut log = Log::open(&path)?;
    for i in 0..1000 {
        log.append(format!("event {i}: user logged in").as_bytes())?;
    }
    log.mmap.flush()?;
    println!(
        "appended 1000 records; file is {} bytes",
        std::fs::metadata(&path)?.len()
    );
    drop(log);

    let log = Log::open(&path)?;
    let records = log.records()?;
    println!(
        "reopened: {} records, last = {:?}",
        records.len(),
        records.last()
    );
    Ok(())
}
