use mmap_io::utils::{align_up, ensure_in_bounds, page_size, slice_range};
use mmap_io::MmapIoError;

#[test]
fn page_size_is_a_power_of_two_matching_the_kernel() {
    let ps = page_size();
    assert!(ps.is_power_of_two());
    assert!(ps >= 4096);
    // The kernel reports the page size in smaps' "KernelPageSize" line too.
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let kernel_kb: u64 = smaps
        .lines()
        .find_map(|l| l.strip_prefix("KernelPageSize:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert_eq!(ps as u64, kernel_kb * 1024);
}

#[test]
fn align_up_rounds_to_the_next_multiple() {
    assert_eq!(align_up(0, 4096), 0);
    assert_eq!(align_up(1, 4096), 4096);
    assert_eq!(align_up(4096, 4096), 4096);
    assert_eq!(align_up(4097, 4096), 8192);
    assert_eq!(align_up(1001, 1024), 1024);
    assert_eq!(align_up(10, 3), 12);
}

#[test]
fn align_up_saturates_instead_of_overflowing() {
    assert_eq!(align_up(u64::MAX, 4096), u64::MAX);
    assert_eq!(align_up(u64::MAX - 1, 4096), u64::MAX);
    assert_eq!(align_up(u64::MAX, 1), u64::MAX);
    assert_eq!(align_up(u64::MAX, u64::MAX), u64::MAX);
    assert_eq!(align_up(5, 0), 5);
}

#[test]
fn ensure_in_bounds_accepts_exact_fits_and_refuses_overruns() {
    assert!(ensure_in_bounds(0, 0, 0).is_ok());
    assert!(ensure_in_bounds(0, 30, 30).is_ok());
    assert!(ensure_in_bounds(30, 0, 30).is_ok());
    assert!(matches!(
        ensure_in_bounds(10, 21, 30),
        Err(MmapIoError::OutOfBounds {
            offset: 10,
            len: 21,
            total: 30
        })
    ));
    assert!(ensure_in_bounds(31, 0, 30).is_err());
}

#[test]
fn ensure_in_bounds_does_not_overflow_at_u64_max() {
    assert!(ensure_in_bounds(u64::MAX, 0, u64::MAX).is_ok());
    assert!(ensure_in_bounds(0, u64::MAX, u64::MAX).is_ok());
    assert!(ensure_in_bounds(1, u64::MAX, u64::MAX).is_err());
    assert!(ensure_in_bounds(u64::MAX, 1, u64::MAX).is_err());
    assert!(ensure_in_bounds(u64::MAX, u64::MAX, u64::MAX).is_err());
    assert!(ensure_in_bounds(u64::MAX - 1, 2, u64::MAX).is_err());
}

#[test]
fn slice_range_returns_usable_indices() {
    let data: Vec<u8> = (0..30).collect();
    let (start, end) = slice_range(10, 5, data.len() as u64).unwrap();
    assert_eq!(&data[start..end], &[10, 11, 12, 13, 14]);
    assert_eq!(slice_range(30, 0, 30).unwrap(), (30, 30));
}

#[test]
fn slice_range_refuses_overflow_and_overruns() {
    assert!(slice_range(u64::MAX, 1, u64::MAX).is_err());
    assert!(slice_range(1, u64::MAX, u64::MAX).is_err());
    assert!(slice_range(25, 6, 30).is_err());
    assert!(slice_range(31, 0, 30).is_err());
}
