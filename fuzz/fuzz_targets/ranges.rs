//! Every range API with fuzzer-chosen offsets and lengths: an error or the right bytes,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mmap_io::MemoryMappedFile;
use std::sync::OnceLock;

const LEN: u64 = 3 * 4096 + 17;

struct Maps {
    _dir: tempfile::TempDir,
    rw: MemoryMappedFile,
    ro: MemoryMappedFile,
    bytes: Vec<u8>,
}

fn maps() -> &'static Maps {
    static MAPS: OnceLock<Maps> = OnceLock::new();
    MAPS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let bytes: Vec<u8> = (0..LEN).map(|i| (i * 7 % 251) as u8).collect();
        let p = dir.path().join("ranges.bin");
        std::fs::write(&p, &bytes).unwrap();
        Maps {
            rw: MemoryMappedFile::open_rw(&p).unwrap(),
            ro: MemoryMappedFile::open_ro(&p).unwrap(),
            _dir: dir,
            bytes,
        }
    })
}

fn fits(offset: u64, len: u64) -> bool {
    len == 0 || offset.checked_add(len).is_some_and(|end| end <= LEN)
}

fuzz_target!(|data: &[u8]| {
    let m = maps();
    for call in data.chunks_exact(17) {
        let offset = u64::from_le_bytes(call[1..9].try_into().unwrap());
        let len = u64::from_le_bytes(call[9..17].try_into().unwrap());
        let want = |o: u64, l: u64| &m.bytes[o as usize..(o + l) as usize];
        let ok = match call[0] % 9 {
            0 => {
                m.ro.as_slice(offset, len)
                    .map(|s| assert!(len == 0 || s == want(offset, len)))
                    .is_ok()
            }
            1 => {
                m.rw.as_slice(offset, len)
                    .map(|s| assert!(len == 0 || s == want(offset, len)))
                    .is_ok()
            }
            2 => {
                let mut buf = vec![0u8; (len % 20_000) as usize];
                let l = buf.len() as u64;
                let r = m.rw.read_into(offset, &mut buf).is_ok();
                assert_eq!(r, fits(offset, l));
                if r && l > 0 {
                    assert_eq!(buf, want(offset, l));
                }
                continue;
            }
            3 => {
                // Write back the bytes that are there, so the expected contents never change.
                let l = len % 20_000;
                let data = if fits(offset, l) && l > 0 {
                    want(offset, l).to_vec()
                } else {
                    vec![0; l as usize]
                };
                let r = m.rw.update_region(offset, &data).is_ok();
                assert_eq!(r, fits(offset, l));
                continue;
            }
            4 => m.rw.flush_range(offset, len).is_ok(),
            5 => m.ro.touch_pages_range(offset, len).is_ok(),
            6 => {
                m.rw.advise(offset, len, mmap_io::MmapAdvice::Random)
                    .is_ok()
            }
            7 => m.ro.as_slice_bytes(offset, len).is_ok(),
            _ => m.rw.read_bytes(offset, len).is_ok(),
        };
        assert_eq!(
            ok,
            fits(offset, len),
            "call {} at ({offset}, {len})",
            call[0] % 9
        );
    }
});
