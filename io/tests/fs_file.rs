//! Files through the ring: positioned and sequential reads and writes, open/create, pipes.

mod common;

use common::{block_on, driver, pipe};
use ringloop_io::fs::File;

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("ringloop-io-{}-{name}", std::process::id()))
}

#[test]
fn write_then_read_a_file_at_offsets() {
    let driver = driver();
    let path = temp_path("rw");
    block_on(&driver, async {
        let file = File::create(&path).await.unwrap();
        let (n, buf) = file.write_at(b"hello, ring".to_vec(), 0).await;
        assert_eq!(n.unwrap(), 11);
        assert_eq!(buf, b"hello, ring", "the buffer comes back intact");
        let (n, _) = file.write_at(&b"R"[..], 7).await;
        assert_eq!(n.unwrap(), 1);
        drop(file);

        let file = File::open(&path).await.unwrap();
        let (n, buf) = file.read_at(Vec::with_capacity(64), 0).await;
        assert_eq!(n.unwrap(), 11);
        assert_eq!(buf, b"hello, Ring");
        let (n, buf) = file.read_at(vec![0u8; 4].into_boxed_slice(), 7).await;
        assert_eq!(n.unwrap(), 4);
        assert_eq!(&buf[..], b"Ring");
        let (n, buf) = file.read_at(Vec::with_capacity(8), 100).await;
        assert_eq!(n.unwrap(), 0, "end of file");
        assert!(buf.is_empty());
    });
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn open_missing_file_is_an_error() {
    let driver = driver();
    let err = block_on(&driver, File::open(temp_path("missing"))).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    let err = block_on(&driver, File::open("bad\0path")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn pipe_round_trip_with_a_large_buffer() {
    let driver = driver();
    let (reader, writer) = pipe();
    block_on(&driver, async {
        let data: Vec<u8> = (0..60_000u32).map(|i| i as u8).collect();
        let expected = data.clone();
        let mut got = Vec::new();
        let (n, _) = writer.write(data).await;
        assert_eq!(n.unwrap(), expected.len());
        while got.len() < expected.len() {
            let (n, buf) = reader.read(Vec::with_capacity(8192)).await;
            assert_eq!(n.unwrap(), buf.len());
            got.extend_from_slice(&buf);
        }
        assert_eq!(got, expected);
        drop(writer);
        let (n, _) = reader.read(Vec::with_capacity(8)).await;
        assert_eq!(n.unwrap(), 0, "end of pipe");
    });
}
