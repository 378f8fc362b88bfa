use mmap_io::{AnonymousMmap, MmapIoError};
use std::sync::Arc;

#[test]
fn a_new_anonymous_map_is_zeroed() {
    let map = AnonymousMmap::new(1 << 20).unwrap();
    assert_eq!(map.len(), 1 << 20);
    assert!(!map.is_empty());
    assert!(map.as_slice(0, 1 << 20).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn size_zero_is_refused() {
    let err = AnonymousMmap::new(0).unwrap_err();
    assert!(
        matches!(&err, MmapIoError::ResizeFailed(m) if m == "Size must be greater than zero"),
        "{err}"
    );
}

#[test]
fn sizes_beyond_the_address_space_are_errors_not_panics() {
    assert!(AnonymousMmap::new(u64::MAX).is_err());
    assert!(AnonymousMmap::new(1 << 62).is_err());
}

#[test]
fn writes_are_read_back_through_every_path() {
    let map = AnonymousMmap::new(8192).unwrap();
    map.update_region(10, b"update").unwrap();
    map.as_mut_slice(100, 5).unwrap().copy_from_slice(b"slice");
    let mut buf = [0u8; 6];
    map.read_into(10, &mut buf).unwrap();
    assert_eq!(&buf, b"update");
    assert_eq!(map.as_slice(100, 5).unwrap(), b"slice");
    // SAFETY: in bounds, and nothing writes concurrently.
    unsafe {
        map.as_mut_ptr().add(200).write(7);
        assert_eq!(*map.as_ptr().add(200), 7);
    }
}

#[test]
fn out_of_range_requests_are_refused_and_change_nothing() {
    let map = AnonymousMmap::new(100).unwrap();
    map.update_region(0, &[5; 100]).unwrap();
    for (offset, len) in [(0u64, 101u64), (100, 1), (u64::MAX, 1), (1, u64::MAX)] {
        assert!(matches!(
            map.as_slice(offset, len),
            Err(MmapIoError::OutOfBounds { .. })
        ));
        assert!(map.as_mut_slice(offset, len).is_err());
    }
    assert!(map.update_region(99, &[0, 0]).is_err());
    assert!(map.read_into(u64::MAX, &mut [0]).is_err());
    assert!(map.as_slice(0, 100).unwrap().iter().all(|&b| b == 5));
    assert!(map.as_slice(u64::MAX, 0).unwrap().is_empty());
}

#[test]
fn an_anonymous_map_is_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<AnonymousMmap>();
    let map = Arc::new(AnonymousMmap::new(64 * 4).unwrap());
    let threads: Vec<_> = (0..4u8)
        .map(|i| {
            let map = Arc::clone(&map);
            std::thread::spawn(move || {
                for _ in 0..100 {
                    map.update_region(u64::from(i) * 64, &[i + 1; 64]).unwrap();
                    let s = map.as_slice(u64::from(i) * 64, 64).unwrap();
                    assert!(s.iter().all(|&b| b == i + 1));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(format!("{map:?}").contains("AnonymousMmap"));
}
