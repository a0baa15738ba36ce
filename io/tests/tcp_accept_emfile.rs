//! Accept with the descriptor limit exhausted: the `EMFILE` comes back as an `io::Error` and
//! the listener keeps working once descriptors are free again.
//!
//! `RLIMIT_NOFILE` is per process, so this binary holds this single test: lowering the limit
//! cannot disturb any other test.

mod common;

use std::os::fd::{AsFd, OwnedFd};

use common::{block_on, driver, set_nofile_limit};
use ringloop_io::net::TcpListener;

/// The highest descriptor number open in this process.
fn highest_fd() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap()
}

#[test]
fn accept_at_the_descriptor_limit_fails_then_recovers() {
    let driver = driver();
    let _enter = driver.enter();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Two connections wait in the listener's queue (the kernel completes the handshake).
    let clients: Vec<_> = (0..2)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();

    // Lower the limit just above what is open, then fill every free descriptor number.
    let (old_soft, _) = set_nofile_limit(highest_fd() + 16);
    let devnull = std::fs::File::open("/dev/null").unwrap();
    let mut filler: Vec<OwnedFd> = Vec::new();
    let exhausted = loop {
        match devnull.as_fd().try_clone_to_owned() {
            Ok(fd) => filler.push(fd),
            Err(e) => break e,
        }
        assert!(filler.len() < 100_000, "the limit did not apply");
    };
    assert_eq!(exhausted.raw_os_error(), Some(libc::EMFILE));

    let err = block_on(&driver, listener.accept()).unwrap_err();
    assert_eq!(
        err.raw_os_error(),
        Some(libc::EMFILE),
        "the kernel's errno, as an io::Error: {err}"
    );
    // Still exhausted: it fails again, and nothing was lost or broken.
    let err = block_on(&driver, listener.accept()).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EMFILE));

    // Free one descriptor: the next accept takes the first queued connection.
    filler.pop();
    let (first, peer) = block_on(&driver, listener.accept()).unwrap();
    assert_eq!(peer, clients[0].local_addr().unwrap());
    let err = block_on(&driver, listener.accept()).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "full again");

    drop(filler);
    set_nofile_limit(old_soft);
    let (second, peer) = block_on(&driver, listener.accept()).unwrap();
    assert_eq!(peer, clients[1].local_addr().unwrap());

    // Both accepted connections work.
    for (stream, mut client) in [first, second].into_iter().zip(clients) {
        let (done, _) = block_on(&driver, stream.write_all(b"ok".to_vec()));
        done.unwrap();
        let mut got = [0u8; 2];
        std::io::Read::read_exact(&mut client, &mut got).unwrap();
        assert_eq!(&got, b"ok");
    }
}
