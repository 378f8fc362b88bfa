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
fn sizes_above_the_limit_get_the_published_message() {
    let limit: u64 = if cfg!(target_pointer_width = "64") {
        1 << 47
    } else {
        1 << 31
    };
    for size in [limit + 1, 1 << 62, u64::MAX] {
        let err = AnonymousMmap::new(size).unwrap_err();
        let expected = format!("Size {size} exceeds maximum safe limit of {limit} bytes");
        assert!(
            matches!(&err, MmapIoError::ResizeFailed(m) if *m == expected),
            "{err}"
        );
    }
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

#[test]
fn try_accessors_never_wait() {
    let map = AnonymousMmap::new(4096).unwrap();
    assert!(map.try_update_region(0, b"abc").unwrap());
    assert!(map.try_update_region(u64::MAX, b"").unwrap());
    assert_eq!(map.try_as_slice(0, 3).unwrap().unwrap(), b"abc");
    map.try_as_mut_slice(3, 1)
        .unwrap()
        .unwrap()
        .copy_from_slice(b"d");
    {
        let view = map.as_slice(0, 4).unwrap();
        assert!(map.try_as_slice(0, 4).unwrap().is_some());
        // Its own view: the blocking calls would be refused; others bytes are free.
        assert!(!map.try_update_region(0, b"x").unwrap());
        assert!(map.try_as_mut_slice(3, 1).unwrap().is_none());
        assert!(map.try_as_mut_slice(100, 1).unwrap().is_some());
        assert_eq!(view, b"abcd");
    }
    {
        let _guard = map.as_mut_slice(0, 4).unwrap();
        assert!(map.try_as_slice(3, 1).unwrap().is_none());
        assert!(!map.try_update_region(0, b"x").unwrap());
        assert!(map.try_update_region(100, b"\0").unwrap());
    }
    let oob = |e: MmapIoError| matches!(e, MmapIoError::OutOfBounds { .. });
    assert!(oob(map.try_update_region(4095, b"xy").unwrap_err()));
    assert!(oob(map.try_as_slice(4096, 1).unwrap_err()));
    assert!(oob(map.try_as_mut_slice(u64::MAX, 1).unwrap_err()));
    assert_eq!(map.as_slice(0, 4).unwrap(), b"abcd");
    assert!(map.as_slice(100, 1).unwrap().iter().all(|&b| b == 0));
}

#[cfg(feature = "atomic")]
#[test]
fn atomic_views_work_on_anonymous_memory_with_the_file_checks() {
    use std::sync::atomic::Ordering;
    let map = Arc::new(AnonymousMmap::new(4096).unwrap());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let counter = map.atomic_u64(0).unwrap();
                for _ in 0..1000 {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(map.atomic_u64(0).unwrap().load(Ordering::Relaxed), 4000);
    assert!(matches!(
        map.atomic_u64(4),
        Err(MmapIoError::Misaligned {
            required: 8,
            offset: 4
        })
    ));
    assert!(matches!(
        map.atomic_u32_slice(2, 0),
        Err(MmapIoError::Misaligned {
            required: 4,
            offset: 2
        })
    ));
    assert!(matches!(
        map.atomic_u64(4096),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    assert!(matches!(
        map.atomic_u32_slice(4000, 25),
        Err(MmapIoError::OutOfBounds { .. })
    ));
    let words = map.atomic_u32_slice(64, 4).unwrap();
    words[3].store(7, Ordering::Relaxed);
    // Plain views and writes of those bytes, and atomic views of the other width, are
    // refused while the view lives; copies are not.
    let invalid = |e: MmapIoError| matches!(e, MmapIoError::InvalidMode(_));
    assert!(invalid(map.as_slice(76, 4).unwrap_err()));
    assert!(invalid(map.update_region(70, b"xx").unwrap_err()));
    assert!(invalid(map.atomic_u64(72).map(drop).unwrap_err()));
    let mut copy = [0u8; 4];
    map.read_into(76, &mut copy).unwrap();
    assert_eq!(u32::from_ne_bytes(copy), 7);
    drop(words);
    {
        let _plain = map.as_slice(64, 16).unwrap();
        assert!(invalid(map.atomic_u32(68).map(drop).unwrap_err()));
    }
    assert_eq!(map.as_slice(76, 4).unwrap(), &7u32.to_ne_bytes());
}

#[test]
fn is_hugepage_backed_is_known_on_linux() {
    let map = AnonymousMmap::new(64 << 10).unwrap();
    map.update_region(0, b"x").unwrap();
    if cfg!(target_os = "linux") {
        assert_eq!(
            map.is_hugepage_backed(),
            Some(false),
            "64 KiB is too small for THP"
        );
    }
}
