//! A random stream of operations on one read-write mapping, checked against a `Vec<u8>`
//! model after every step.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mmap_io::MemoryMappedFile;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ops.bin");
    let mut model = vec![0u8; 5000];
    let mut mmap = MemoryMappedFile::create_rw(&p, model.len() as u64).unwrap();
    for op in data.chunks_exact(8) {
        let a = u64::from(u16::from_le_bytes([op[1], op[2]]));
        let b = u64::from(u16::from_le_bytes([op[3], op[4]]));
        let fits = |o: u64, l: u64, total: usize| l == 0 || o + l <= total as u64;
        match op[0] % 7 {
            0 => {
                let d = vec![op[5]; (b % 600) as usize];
                let r = mmap.update_region(a, &d);
                assert_eq!(r.is_ok(), fits(a, d.len() as u64, model.len()));
                if r.is_ok() && !d.is_empty() {
                    model[a as usize..a as usize + d.len()].copy_from_slice(&d);
                }
            }
            1 => {
                if let Ok(mut s) = mmap.as_slice_mut(a, b % 600) {
                    s.fill(op[6]);
                    let l = s.len();
                    if l > 0 {
                        model[a as usize..a as usize + l].fill(op[6]);
                    }
                }
            }
            2 => {
                let n = 1 + (u64::from(op[7]) << 8 | b % 256);
                mmap.resize(n).unwrap();
                model.resize(n as usize, 0);
            }
            3 => mmap.flush().unwrap(),
            4 => {
                let r = mmap.flush_range(a, b);
                assert_eq!(r.is_ok(), fits(a, b, model.len()));
            }
            5 => {
                mmap.flush().unwrap();
                drop(mmap);
                mmap = MemoryMappedFile::open_rw(&p).unwrap();
            }
            _ => {
                if let Ok(s) = mmap.as_slice(a, b) {
                    assert!(b == 0 || s == model[a as usize..(a + b) as usize]);
                }
            }
        }
        assert_eq!(mmap.len(), model.len() as u64);
    }
    mmap.flush().unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), model);
});
