#![cfg(feature = "async")]
mod common;

use common::{path, read_file, tempdir};
use mmap_io::manager::r#async::{copy_mmap_async, create_mmap_async, delete_mmap_async};
use mmap_io::{MemoryMappedFile, MmapIoError};
use std::future::Future;
use std::io::ErrorKind;

/// Runs the whole async surface once on the executor behind `block_on`.
fn exercise(block_on: impl Fn(std::pin::Pin<Box<dyn Future<Output = ()>>>)) {
    let dir = tempdir();
    let p = path(&dir, "a.bin");
    let copy = path(&dir, "copy.bin");
    let (p2, copy2) = (p.clone(), copy.clone());
    block_on(Box::pin(async move {
        let mmap = create_mmap_async(&p2, 8192).await.unwrap();
        mmap.update_region_async(100, b"ASYNC").await.unwrap();
        assert_eq!(mmap.pending_bytes(), 0, "update_region_async flushes");
        let fresh = MemoryMappedFile::open_ro(&p2).unwrap();
        assert_eq!(fresh.as_slice(100, 5).unwrap(), b"ASYNC");

        mmap.update_region(5000, b"later").unwrap();
        mmap.flush_range_async(5000, 5).await.unwrap();
        mmap.update_region(6000, b"full").unwrap();
        mmap.flush_async().await.unwrap();
        assert_eq!(mmap.pending_bytes(), 0);

        copy_mmap_async(&p2, &copy2).await.unwrap();
        delete_mmap_async(&p2).await.unwrap();
    }));
    assert!(!p.exists());
    let copied = read_file(&copy);
    assert_eq!(&copied[100..105], b"ASYNC");
    assert_eq!(&copied[6000..6004], b"full");
}

#[test]
fn works_on_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    exercise(|f| rt.block_on(f));
    let current = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    exercise(|f| current.block_on(f));
}

#[test]
fn works_on_smol() {
    exercise(smol::block_on);
}

#[test]
fn works_on_a_bare_block_on() {
    exercise(futures_lite::future::block_on);
}

#[test]
fn async_futures_can_be_spawned_on_a_multithreaded_runtime() {
    let dir = tempdir();
    let mmap = MemoryMappedFile::create_rw(path(&dir, "spawn.bin"), 4096).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..8u64)
            .map(|i| {
                let mmap = mmap.clone();
                tokio::spawn(async move { mmap.update_region_async(i * 8, &[i as u8; 8]).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
    });
    for i in 0..8u64 {
        assert_eq!(mmap.as_slice(i * 8, 8).unwrap(), [i as u8; 8]);
    }
}

#[test]
fn async_errors_are_the_sync_errors() {
    let dir = tempdir();
    futures_lite::future::block_on(async {
        let err = create_mmap_async(path(&dir, "zero.bin"), 0)
            .await
            .unwrap_err();
        assert!(matches!(err, MmapIoError::ResizeFailed(_)));
        let err = delete_mmap_async(path(&dir, "missing.bin"))
            .await
            .unwrap_err();
        assert!(matches!(err, MmapIoError::Io(e) if e.kind() == ErrorKind::NotFound));
        let err = copy_mmap_async(path(&dir, "missing.bin"), path(&dir, "x.bin"))
            .await
            .unwrap_err();
        assert!(matches!(err, MmapIoError::Io(_)));

        let p = common::file_with(&dir, "ro.bin", &[5u8; 64]);
        let ro = MemoryMappedFile::open_ro(&p).unwrap();
        assert!(matches!(
            ro.update_region_async(0, b"x").await,
            Err(MmapIoError::InvalidMode(_))
        ));
        ro.flush_async().await.unwrap();
        let rw = MemoryMappedFile::open_rw(&p).unwrap();
        assert!(matches!(
            rw.update_region_async(60, b"too long").await,
            Err(MmapIoError::OutOfBounds { .. })
        ));
        assert!(matches!(
            rw.flush_range_async(u64::MAX, 1).await,
            Err(MmapIoError::OutOfBounds { .. })
        ));
        assert_eq!(read_file(&p), vec![5u8; 64]);
    });
}
