//! A file of typed records: a header struct and an index of fixed-size entries read and
//! written in place as Rust types (feature `pod`), and a writable view split in two for two
//! threads, each half keeping the other writers out until both drop.
//!
//! Run with `cargo run --example records --features pod`.

use bytemuck::{Pod, Zeroable};
use mmap_io::{MappedSlice, MappedSliceMut, MemoryMappedFile};

/// The file's first 16 bytes.
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C)]
struct Header {
    magic: [u8; 8],
    entries: u32,
    entry_size: u32,
}

/// One index entry.
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
#[repr(C)]
struct Entry {
    key: u64,
    offset: u64,
}

const ENTRIES: usize = 1024;
const INDEX: u64 = 64; // where the index starts: aligned for `Entry`
const ENTRY: u64 = std::mem::size_of::<Entry>() as u64;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("index.bin");
    let file = MemoryMappedFile::create_rw(&path, INDEX + ENTRY * ENTRIES as u64)?;

    // The header, written as a struct in place.
    *file.as_pod_mut::<Header>(0)? = Header {
        magic: *b"IDX-0001",
        entries: ENTRIES as u32,
        entry_size: ENTRY as u32,
    };

    // The index, split in two halves that two threads fill at once.
    let whole = file.as_slice_mut(INDEX, ENTRY * ENTRIES as u64)?;
    let (low, high) = MappedSliceMut::split_at_mut(whole, (ENTRY as usize) * ENTRIES / 2)?;
    std::thread::scope(|s| {
        for (half, mut bytes) in [(0, low), (1, high)] {
            s.spawn(move || {
                let entries: &mut [Entry] = bytemuck::cast_slice_mut(&mut bytes[..]);
                for (i, e) in entries.iter_mut().enumerate() {
                    let n = (half * ENTRIES / 2 + i) as u64;
                    *e = Entry {
                        key: n * n,
                        offset: 4096 * n,
                    };
                }
            });
        }
    });
    file.flush()?;
    println!("wrote a header and {ENTRIES} entries, two threads filling a half each");

    // Read back as types: the header, then a binary search over the index in place.
    let ro = MemoryMappedFile::open_ro(&path)?;
    let header = ro.as_pod::<Header>(0)?;
    println!(
        "header: magic {:?}, {} entries of {} bytes",
        String::from_utf8_lossy(&header.magic),
        header.entries,
        header.entry_size
    );
    let index = ro.as_slice_of::<Entry>(INDEX, header.entries as usize)?;
    let key = 777 * 777;
    let found = index.binary_search_by_key(&key, |e| e.key);
    println!("key {key}: {:?}", found.map(|i| index[i]));
    // A typed view at an offset that is not aligned for the type is an error, never a panic.
    println!(
        "an entry at offset 3: {}",
        ro.as_pod::<Entry>(3).unwrap_err()
    );

    // A record parsed out of a view keeps the view's guard: narrow it instead of copying.
    let view = ro.as_slice(INDEX, ENTRY * 4)?;
    let third = MappedSlice::slice(view, (2 * ENTRY as usize)..(3 * ENTRY as usize))?;
    let entry: Entry = bytemuck::pod_read_unaligned(&third);
    println!("the third entry, read through a narrowed view: {entry:?}");
    Ok(())
}
