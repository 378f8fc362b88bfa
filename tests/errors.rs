use mmap_io::MmapIoError;
use std::error::Error;
use std::io;

#[test]
fn every_variant_displays_like_the_published_crate() {
    let cases = [
        (
            MmapIoError::Io(io::Error::other("disk on fire")),
            "I/O error: disk on fire",
        ),
        (
            MmapIoError::InvalidMode("mapping is read-only"),
            "invalid access mode: mapping is read-only",
        ),
        (
            MmapIoError::OutOfBounds {
                offset: 10,
                len: 20,
                total: 25,
            },
            "range out of bounds: offset=10, len=20, total=25",
        ),
        (MmapIoError::FlushFailed("EIO".into()), "flush failed: EIO"),
        (MmapIoError::ResizeFailed("x".into()), "resize failed: x"),
        (MmapIoError::AdviceFailed("x".into()), "advice failed: x"),
        (MmapIoError::LockFailed("x".into()), "lock failed: x"),
        (MmapIoError::UnlockFailed("x".into()), "unlock failed: x"),
        (
            MmapIoError::Misaligned {
                required: 8,
                offset: 3,
            },
            "atomic alignment error: required=8, offset=3",
        ),
        (MmapIoError::WatchFailed("x".into()), "watch failed: x"),
    ];
    for (err, shown) in cases {
        assert_eq!(err.to_string(), shown);
    }
}

#[test]
fn io_errors_keep_their_kind_and_source() {
    let err: MmapIoError = io::Error::from(io::ErrorKind::PermissionDenied).into();
    let source = err.source().expect("Io has a source");
    let io_err = source
        .downcast_ref::<io::Error>()
        .expect("source is io::Error");
    assert_eq!(io_err.kind(), io::ErrorKind::PermissionDenied);
}

#[test]
fn zero_size_message_matches_the_published_crate() {
    let dir = tempfile::tempdir().unwrap();
    let err = mmap_io::create_mmap(dir.path().join("z.bin"), 0).unwrap_err();
    assert_eq!(
        err.to_string(),
        "resize failed: Size must be greater than zero"
    );
}

#[test]
fn the_error_type_is_send_sync_and_static() {
    fn assert_bounds<T: Send + Sync + 'static + Error>() {}
    assert_bounds::<MmapIoError>();
}
