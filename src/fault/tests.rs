use super::*;

/// Copies of every small size, and some large ones, at every alignment, in and out of a
/// buffer: the guarded copy moves exactly `len` bytes.
#[test]
fn copies_exactly_the_bytes_asked_at_any_size_and_alignment() {
    let src: Vec<u8> = (0..1024u32).map(|i| (i * 7 + 3) as u8).collect();
    let sizes = (0..=130).chain([255, 256, 257, 511, 700, 1000]);
    for len in sizes {
        for shift in 0..8 {
            if shift + len > 1016 {
                continue;
            }
            let mut dst = vec![0xAAu8; 1024];
            // SAFETY: both ranges lie in their buffers, which do not overlap.
            unsafe {
                copy(
                    dst.as_mut_ptr().add(shift + 1),
                    src.as_ptr().add(shift),
                    len,
                )
            }
            .unwrap();
            assert_eq!(
                &dst[shift + 1..shift + 1 + len],
                &src[shift..shift + len],
                "len {len}"
            );
            assert!(
                dst[..shift + 1].iter().all(|&b| b == 0xAA),
                "before, len {len}"
            );
            assert!(
                dst[shift + 1 + len..].iter().all(|&b| b == 0xAA),
                "after, len {len}"
            );
        }
    }
}

#[test]
fn loads_read_the_whole_word() {
    let words = [0x0123_4567_89ab_cdefu64, u64::MAX];
    for w in words {
        // SAFETY: a live, aligned `u64`.
        assert_eq!(unsafe { load_u64(&w) }, Ok(w));
        let half = w as u32;
        // SAFETY: a live, aligned `u32`.
        assert_eq!(unsafe { load_u32(&half) }, Ok(half));
    }
}

/// A file of three pages, mapped, then cut to one page through another descriptor.
#[cfg(target_os = "linux")]
fn cut_mapping() -> (tempfile::NamedTempFile, memmap2::MmapMut, usize) {
    let page = crate::utils::page_size();
    let file = tempfile::NamedTempFile::new().unwrap();
    file.as_file().set_len(3 * page as u64).unwrap();
    // SAFETY: the file is private to this test; the mapping is only touched through the
    // guarded routine once the file is cut.
    let mut map = unsafe { memmap2::MmapMut::map_mut(file.as_file()) }.unwrap();
    map.fill(7);
    std::fs::OpenOptions::new()
        .write(true)
        .open(file.path())
        .unwrap()
        .set_len(page as u64)
        .unwrap();
    (file, map, page)
}

#[cfg(target_os = "linux")]
#[test]
fn a_copy_past_a_cut_stops_there_and_reports_it() {
    if !PROTECTED {
        eprintln!("skipped: copies are not protected on this platform");
        return;
    }
    install();
    let (_file, mut map, page) = cut_mapping();
    let base = map.as_mut_ptr();
    // Large and small reads across the cut, and reads wholly past it.
    for (from, len, done) in [
        (0, 3 * page, page),
        (page - 16, 64, 16),
        (page - 100, 1000, 100),
        (page, 8, 0),
        (2 * page + 5, 3, 0),
    ] {
        let mut buf = vec![0u8; len];
        // SAFETY: the range lies in the live mapping; `buf` is distinct.
        let got = unsafe { copy(buf.as_mut_ptr(), base.add(from), len) };
        let fault = got.expect_err("a copy past the cut");
        // Every count is exact: a copy that crosses a page boundary takes the exact path.
        assert_eq!(fault.done, done, "from {from}, len {len}");
        assert!(buf[..done].iter().all(|&b| b == 7));
        let e = fault.error(from as u64);
        assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof);
        assert!(
            e.to_string().contains(&format!("offset {}", from + done)),
            "{e}"
        );
    }
    // Writes past the cut, small and large.
    for len in [8, 5000] {
        let data = vec![1u8; len];
        // SAFETY: as above.
        let got = unsafe { copy(base.add(page + 8), data.as_ptr(), len) };
        assert!(got.is_err(), "a write of {len} past the cut");
    }
    // SAFETY: an aligned word in the live mapping, past the cut.
    assert!(unsafe { load_u64(base.add(page) as *const u64) }.is_err());
    // SAFETY: as above.
    assert!(unsafe { load_u32(base.add(2 * page) as *const u32) }.is_err());
    // SAFETY: the range lies in the live mapping.
    let touched = unsafe { touch_pages(base, 3 * page) };
    assert_eq!(touched.map_err(|f| f.done), Err(page));
    // What lies before the cut still copies.
    let mut buf = vec![0u8; page];
    // SAFETY: as above.
    unsafe { copy(buf.as_mut_ptr(), base, page) }.unwrap();
    assert!(buf.iter().all(|&b| b == 7));
}

/// The recovery rule on its own (the one part of the Windows handler Wine cannot reach: it
/// raises no in-page error): a fault is taken only inside a registered range and inside
/// the operands the registers give there.
#[cfg(any(
    all(
        target_os = "linux",
        target_arch = "x86_64",
        target_pointer_width = "64"
    ),
    all(windows, target_arch = "x86_64"),
    all(
        target_os = "linux",
        target_env = "gnu",
        target_arch = "x86",
        target_feature = "sse2"
    ),
))]
#[test]
fn a_fault_is_recovered_only_in_a_range_and_in_its_operands() {
    let table = recovery::ranges();
    let regs = |pc| recovery::Regs {
        pc,
        ax: 0,
        cx: 0x100,
        dx: 200,
        si: 0x10_100,
        di: 0x20_100,
    };
    // Each range's first instruction, and the operands the registers give there: bytes
    // left, source, destination.
    let ranges: Vec<(usize, usize, usize, usize)> = if cfg!(target_arch = "x86_64") {
        vec![
            (table[0], 200, 0x10_100, 0x20_100), // the small copy: rdx, rsi, rdi
            (table[2], 0x100, 0x10_100, 0x20_100), // rep movsb: rcx, rsi, rdi
            (table[4], 8, 0x20_100, 0x20_100),   // the loads: rdi
        ]
    } else {
        vec![
            (table[0], 0x100, 0x10_100, 0x20_100), // rep movsb: ecx, esi, edi
            (table[3], 8, 0x100, 0x100),           // the 8-byte load: ecx
            (table[5], 8, 0x100, 0x100),           // the 4-byte load: ecx
        ]
    };
    for (pc, left, from, to) in ranges {
        for (addr, granule, taken) in [
            (from, 1, true),
            (from + left - 1, 1, true),
            (to + left / 2, 1, true),
            (from + left, 1, left + from == to),
            (from - 1, 1, false),
            (to + left, 1, false),
            // A machine check names the page: its page holds the operands' first byte.
            (from & !4095, 1, false),
            (from & !4095, 4096, true),
            ((from + left + 4095) & !4095, 4096, false),
        ] {
            let mut r = regs(pc);
            let got = recovery::recover_in(&table, &mut r, addr, granule, 2);
            assert_eq!(got, taken, "pc {pc:#x}, addr {addr:#x}, granule {granule}");
            if taken {
                assert_eq!((r.ax, r.dx), (left, 2));
                assert_ne!(r.pc, pc, "resumes at the fixup");
            } else {
                assert_eq!((r.pc, r.ax, r.dx), (pc, 0, 200), "left as it was");
            }
        }
    }
    // Outside every range: never taken, whatever the address.
    let last = *table.iter().max().unwrap();
    for pc in [table[0].wrapping_sub(1), last + 64] {
        assert!(!recovery::recover_in(&table, &mut regs(pc), 0x10_100, 1, 2));
    }
}
