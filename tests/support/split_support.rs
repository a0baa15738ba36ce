//! The split-halves scenarios of `tcp_split.rs` and `unix_split.rs`, written once over the
//! kind of stream ([`Kind`], implemented here for `TcpStream` and `UnixStream`), as the halves
//! themselves are (`ringloop::net::SplitStream`):
//!
//! - four tasks, a reader and a writer on each end of one connection, move 4 MiB each way,
//!   content-checked, and the writers' dropped halves end the peers' reads;
//! - `reunite` gives back a stream that works and whose peer saw no end of stream;
//! - `reunite` of halves of two streams fails with both halves, which still work;
//! - reads cancelled by timeouts on a read half lose nothing for the next reader (another
//!   task, then the reunited stream);
//! - a read half dropped with a read in flight leaves the write half and the peer unaffected,
//!   and the socket closes when the write half goes too;
//! - dropping the owned write half shuts down writing only; `forget`, `shutdown` and a
//!   dropped borrowed write half;
//! - the borrowed halves of `split` read and write at once in one task (`gather!`).

use crate::io_support::{open_socket_inodes, payload, sleep_until_true, socket_inode, tcp_pair};
use crate::support::{Flavor, PATIENCE};
use ringloop::net::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, SplitStream, TcpStream, UnixStream,
    WriteHalf,
};
use ringloop::{create_task, gather, timeout};
use std::future::Future;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What the scenarios need of a kind of stream beyond [`SplitStream`]: a connected pair and
/// the stream's own methods (which are inherent, not part of the trait).
pub(crate) trait Kind: SplitStream + AsRawFd + Send + Sync + Sized + 'static {
    /// A connected pair; call from inside a runtime.
    fn pair() -> impl Future<Output = (Self, Self)>;
    fn into_split(self) -> (OwnedReadHalf<Self>, OwnedWriteHalf<Self>);
    fn split(&mut self) -> (ReadHalf<'_, Self>, WriteHalf<'_, Self>);
    fn read(&self, buf: Vec<u8>) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send;
    fn write_all(&self, buf: Vec<u8>) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + Send;
}

impl Kind for TcpStream {
    async fn pair() -> (TcpStream, TcpStream) {
        tcp_pair("127.0.0.1").await
    }
    fn into_split(self) -> (OwnedReadHalf<Self>, OwnedWriteHalf<Self>) {
        TcpStream::into_split(self)
    }
    fn split(&mut self) -> (ReadHalf<'_, Self>, WriteHalf<'_, Self>) {
        TcpStream::split(self)
    }
    fn read(&self, buf: Vec<u8>) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send {
        TcpStream::read(self, buf)
    }
    fn write_all(&self, buf: Vec<u8>) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + Send {
        TcpStream::write_all(self, buf)
    }
}

impl Kind for UnixStream {
    async fn pair() -> (UnixStream, UnixStream) {
        UnixStream::pair().expect("socketpair")
    }
    fn into_split(self) -> (OwnedReadHalf<Self>, OwnedWriteHalf<Self>) {
        UnixStream::into_split(self)
    }
    fn split(&mut self) -> (ReadHalf<'_, Self>, WriteHalf<'_, Self>) {
        UnixStream::split(self)
    }
    fn read(&self, buf: Vec<u8>) -> impl Future<Output = (io::Result<usize>, Vec<u8>)> + Send {
        UnixStream::read(self, buf)
    }
    fn write_all(&self, buf: Vec<u8>) -> impl Future<Output = (io::Result<()>, Vec<u8>)> + Send {
        UnixStream::write_all(self, buf)
    }
}

/// Bytes each way in the four-task test.
const BIG: usize = 4 * 1024 * 1024;

/// Long enough for anything that should happen at once to happen.
const A_WHILE: Duration = Duration::from_millis(50);

/// Asserts `got == want` without printing megabytes: the lengths and the first difference.
#[track_caller]
pub(crate) fn assert_same(got: &[u8], want: &[u8], what: &str) {
    if got != want {
        let first = got.iter().zip(want).position(|(a, b)| a != b);
        panic!(
            "{what}: {} bytes received, {} expected, first difference at {first:?}",
            got.len(),
            want.len()
        );
    }
}

/// Reads [`BIG`] bytes through `half` with buffers of a few sizes, then the end of the
/// stream.
async fn read_all<S: SplitStream>(half: &OwnedReadHalf<S>, what: &str) -> io::Result<Vec<u8>> {
    const SIZES: [usize; 3] = [7, 4096, 64 * 1024];
    let mut out = Vec::with_capacity(BIG);
    for round in 0.. {
        if out.len() >= BIG {
            break;
        }
        let (n, buf) = half
            .read(Vec::with_capacity(SIZES[round % SIZES.len()]))
            .await;
        if n? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&buf);
    }
    assert_end(half.read(Vec::with_capacity(8)), what).await;
    Ok(out)
}

/// Reads with `read` exactly `len` bytes.
pub(crate) async fn read_exact<F, R>(mut read: F, len: usize) -> io::Result<Vec<u8>>
where
    F: FnMut(Vec<u8>) -> R,
    R: Future<Output = (io::Result<usize>, Vec<u8>)>,
{
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let (n, buf) = read(Vec::with_capacity((len - out.len()).min(64 * 1024))).await;
        if n? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&buf);
    }
    Ok(out)
}

/// Asserts that `read` returns the end of the stream, within [`PATIENCE`] (so that a missing
/// shutdown fails the test instead of hanging it).
pub(crate) async fn assert_end<R>(read: R, what: &str)
where
    R: Future<Output = (io::Result<usize>, Vec<u8>)>,
{
    match timeout(PATIENCE, read).await {
        Ok((Ok(0), _)) => {}
        Ok((n, _)) => panic!("{what}: expected the end of the stream, read {n:?}"),
        Err(_) => panic!("{what}: no end of the stream after {PATIENCE:?}"),
    }
}

/// Asserts that nothing arrives through `read` for [`A_WHILE`] (no bytes, no end of stream).
pub(crate) async fn assert_quiet<R>(read: R, what: &str)
where
    R: Future<Output = (io::Result<usize>, Vec<u8>)>,
{
    if let Ok((n, buf)) = timeout(A_WHILE, read).await {
        panic!("{what}: expected nothing, read {n:?} ({} bytes)", buf.len());
    }
}

/// Writes `data` through `half` in chunks of several sizes, some with `write_all` and some
/// with `write` (which may send part of a chunk), then drops the half.
async fn send_in_chunks<S: SplitStream>(half: OwnedWriteHalf<S>, data: Vec<u8>) -> io::Result<()> {
    const CHUNKS: [usize; 5] = [1, 100, 4096, 64 * 1024, 200_000];
    let mut sent = 0;
    for round in 0.. {
        if sent == data.len() {
            break;
        }
        let end = (sent + CHUNKS[round % CHUNKS.len()]).min(data.len());
        let chunk = data[sent..end].to_vec();
        if round % 3 == 0 {
            let (n, _) = half.write(chunk).await;
            sent += n?;
        } else {
            let (done, _) = half.write_all(chunk).await;
            done?;
            sent = end;
        }
    }
    drop(half); // the peer reads the end of the stream
    Ok(())
}

/// A reader task and a writer task on each end of one connection move [`BIG`] bytes each way.
/// Each writer's half is dropped when it is done, which ends its peer's reads while its own
/// end's reader is still at work.
pub(crate) fn four_tasks_move_4_mib_each_way<S: Kind>(flavor: Flavor) {
    let rt = flavor.runtime();
    rt.block_on(async {
        let (a, b) = S::pair().await;
        let (a_read, a_write) = a.into_split();
        let (b_read, b_write) = b.into_split();
        let writers = [
            create_task(send_in_chunks(a_write, payload(1, BIG))),
            create_task(send_in_chunks(b_write, payload(2, BIG))),
        ];
        let readers = [
            create_task(async move { read_all(&b_read, "b's reader").await }),
            create_task(async move { read_all(&a_read, "a's reader").await }),
        ];
        for (outcome, to) in gather(readers).await.into_iter().zip(["b", "a"]) {
            let received = outcome.expect("a reader task failed").unwrap();
            let seed = if to == "b" { 1 } else { 2 };
            assert_same(
                &received,
                &payload(seed, BIG),
                &format!("the bytes sent to {to}"),
            );
        }
        for outcome in gather(writers).await {
            outcome.expect("a writer task failed").unwrap();
        }
    });
}

/// Both `reunite`s give back the stream, which works both ways; the peer never saw the end
/// of the stream.
pub(crate) fn reunite_gives_back_a_working_stream<S: Kind>(flavor: Flavor) {
    let rt = flavor.runtime();
    rt.block_on(async {
        let (a, b) = S::pair().await;
        let fd = a.as_raw_fd();
        let (read, write) = a.into_split();
        let (done, _) = write.write_all(b"through the half".to_vec()).await;
        done.unwrap();
        let (done, _) = b.write_all(b"to the half".to_vec()).await;
        done.unwrap();
        assert_eq!(
            read_exact(|buf| read.read(buf), 11).await.unwrap(),
            b"to the half"
        );

        let a = read.reunite(write).expect("the halves of one stream");
        assert_eq!(a.as_raw_fd(), fd, "the same socket");
        let (done, _) = a.write_all(b", and the stream".to_vec()).await;
        done.unwrap();
        let expected = b"through the half, and the stream";
        let got = read_exact(|buf| b.read(buf), expected.len()).await.unwrap();
        assert_eq!(got, expected, "no end of stream in between");

        // The other way round.
        let (read, write) = a.into_split();
        let a = write.reunite(read).expect("the halves of one stream");
        let (done, _) = b.write_all(b"back".to_vec()).await;
        done.unwrap();
        assert_eq!(read_exact(|buf| a.read(buf), 4).await.unwrap(), b"back");
        let (done, _) = a.write_all(b"!".to_vec()).await;
        done.unwrap();
        assert_eq!(read_exact(|buf| b.read(buf), 1).await.unwrap(), b"!");
    });
}

/// `reunite` of the halves of two streams fails, in either direction, and gives both halves
/// back untouched: each still reads or writes its own stream, and no write half was shut
/// down. Then each pair reunites.
pub(crate) fn reunite_of_two_streams_gives_both_halves_back<S: Kind>(flavor: Flavor) {
    let rt = flavor.runtime();
    rt.block_on(async {
        let (a, a_peer) = S::pair().await;
        let (b, b_peer) = S::pair().await;
        let (a_read, a_write) = a.into_split();
        let (b_read, b_write) = b.into_split();

        let err = a_read.reunite(b_write).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("different streams"), "{message}");
        let ReuniteError(a_read, b_write) = err;
        let err = b_write.reunite(a_read).unwrap_err();
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err);
        let err = boxed.downcast::<ReuniteError<S>>().expect("the same error");
        let (a_read, b_write) = (err.0, err.1);

        // Both halves still work on their own streams.
        let (done, _) = b_write.write_all(b"to b".to_vec()).await;
        done.unwrap();
        assert_eq!(
            read_exact(|buf| b_peer.read(buf), 4).await.unwrap(),
            b"to b"
        );
        let (done, _) = a_peer.write_all(b"to a".to_vec()).await;
        done.unwrap();
        assert_eq!(
            read_exact(|buf| a_read.read(buf), 4).await.unwrap(),
            b"to a"
        );
        // No write half was dropped along the way: no peer sees the end of the stream.
        assert_quiet(a_peer.read(Vec::with_capacity(8)), "a's peer").await;
        assert_quiet(b_peer.read(Vec::with_capacity(8)), "b's peer").await;

        let a = a_read.reunite(a_write).expect("a's halves");
        let b = b_write.reunite(b_read).expect("b's halves");
        for (stream, peer) in [(&a, &a_peer), (&b, &b_peer)] {
            let (done, _) = stream.write_all(b"whole".to_vec()).await;
            done.unwrap();
            assert_eq!(read_exact(|buf| peer.read(buf), 5).await.unwrap(), b"whole");
        }
    });
}

/// How far the readers of [`reads_cancelled_on_a_read_half_lose_nothing_for_the_next_reader`]
/// got, for its writer to wait on.
#[derive(Default)]
struct Progress {
    consumed: AtomicUsize,
    cancelled: AtomicUsize,
}

/// Reads through `read` into `got` until it holds `until` bytes, each read under a timeout of
/// 0 to 1 ms; counts the bytes and the timeouts in `progress`. Returns the timeouts.
async fn read_with_timeouts<F, R>(
    mut read: F,
    got: &mut Vec<u8>,
    until: usize,
    progress: &Progress,
) -> usize
where
    F: FnMut(Vec<u8>) -> R,
    R: Future<Output = (io::Result<usize>, Vec<u8>)>,
{
    let mut cancelled = 0;
    while got.len() < until {
        let round = got.len() + progress.cancelled.load(Ordering::SeqCst);
        let wait = Duration::from_micros((round * 337 % 1000) as u64);
        match timeout(wait, read(Vec::with_capacity(1 + round % 3000))).await {
            Ok((n, buf)) => {
                assert!(n.unwrap() > 0, "the end of the stream came early");
                got.extend_from_slice(&buf);
                progress.consumed.fetch_add(buf.len(), Ordering::SeqCst);
            }
            Err(_) => {
                cancelled += 1;
                progress.cancelled.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
    cancelled
}

/// Reads dropped in flight by timeouts on a read half, while the peer sends bytes in batches:
/// the first reader task hands the half to a second, which hands it back to be reunited, and
/// the stream reads the rest the same way. After each batch but the last, the writer waits
/// until the batch is read and a read timed out after it, so that every reader has reads
/// cancelled, some on an empty socket and some as the next batch comes in. Every byte
/// arrives once, in order, whoever reads it.
pub(crate) fn reads_cancelled_on_a_read_half_lose_nothing_for_the_next_reader<S: Kind>(
    flavor: Flavor,
) {
    const TOTAL: usize = 256 * 1024;
    const CHUNK: usize = 1037;
    const BATCH: usize = 16 * CHUNK;
    let rt = flavor.runtime();
    rt.block_on(async {
        let (a, b) = S::pair().await;
        let (a_read, a_write) = a.into_split();
        let data = payload(3, TOTAL);
        let progress = Arc::new(Progress::default());
        let writer = create_task({
            let (data, progress) = (data.clone(), progress.clone());
            async move {
                let mut written = 0;
                for batch in data.chunks(BATCH) {
                    let cancelled = progress.cancelled.load(Ordering::SeqCst);
                    for chunk in batch.chunks(CHUNK) {
                        let (done, _) = b.write_all(chunk.to_vec()).await;
                        done?;
                    }
                    written += batch.len();
                    if written < TOTAL {
                        sleep_until_true("the batch is read, then a read times out", || {
                            progress.consumed.load(Ordering::SeqCst) == written
                                && progress.cancelled.load(Ordering::SeqCst) > cancelled
                        })
                        .await;
                    }
                }
                io::Result::Ok(()) // `b` is dropped: the end of the stream
            }
        });
        let first = create_task({
            let progress = progress.clone();
            async move {
                let mut got = Vec::new();
                let cancelled =
                    read_with_timeouts(|buf| a_read.read(buf), &mut got, TOTAL / 3, &progress)
                        .await;
                (a_read, got, cancelled)
            }
        });
        let (a_read, got, cancelled_1) = first.await.expect("the first reader failed");
        let second = create_task({
            let progress = progress.clone();
            async move {
                let mut got = got;
                let until = 2 * TOTAL / 3;
                let cancelled =
                    read_with_timeouts(|buf| a_read.read(buf), &mut got, until, &progress).await;
                (a_read, got, cancelled)
            }
        });
        let (a_read, mut got, cancelled_2) = second.await.expect("the second reader failed");
        let a = a_read.reunite(a_write).expect("the halves of one stream");
        let cancelled_3 = read_with_timeouts(|buf| a.read(buf), &mut got, TOTAL, &progress).await;
        assert_end(a.read(Vec::with_capacity(8)), "the reunited stream").await;
        writer.await.expect("the writer task failed").unwrap();
        assert_same(&got, &data, "the bytes read by three readers");
        assert!(
            cancelled_1 > 0 && cancelled_2 > 0 && cancelled_3 > 0,
            "reads cancelled: {cancelled_1}, {cancelled_2}, {cancelled_3}"
        );
    });
}

/// A read half dropped together with its read in flight (both inside a future that a
/// timeout drops) leaves the rest alone: the write half writes, the peer sees no end of
/// stream; dropping the write half then ends the peer's reads, and the socket is closed.
pub(crate) fn dropping_the_read_half_mid_read_leaves_the_write_half_working<S: Kind>(
    flavor: Flavor,
) {
    let rt = flavor.runtime();
    rt.block_on(async {
        let (a, peer) = S::pair().await;
        let inode = socket_inode(a.as_raw_fd()).expect("a socket");
        let (read, write) = a.into_split();
        let reading = async move { read.read(Vec::with_capacity(64)).await };
        let out = timeout(Duration::from_millis(5), reading).await;
        assert!(out.is_err(), "nothing was sent, yet the read completed");

        let (done, _) = write.write_all(b"still writing".to_vec()).await;
        done.unwrap();
        let got = read_exact(|buf| peer.read(buf), 13).await.unwrap();
        assert_eq!(got, b"still writing");
        assert_quiet(peer.read(Vec::with_capacity(8)), "the peer").await;
        assert!(open_socket_inodes().contains(&inode), "the socket is open");

        drop(write);
        assert_end(peer.read(Vec::with_capacity(8)), "the peer").await;
        sleep_until_true("the socket is closed", || {
            !open_socket_inodes().contains(&inode)
        })
        .await;
    });
}

/// Dropping the owned write half shuts down the writing direction only: the peer reads the
/// bytes, then the end of the stream, and can still send to the read half. `forget` gives it
/// up without the shutdown (the peer reads the end only once the read half goes too);
/// `shutdown` does it explicitly; a dropped borrowed write half shuts nothing down.
pub(crate) fn dropping_the_write_half_shuts_down_writing_only<S: Kind>(flavor: Flavor) {
    let rt = flavor.runtime();
    rt.block_on(async {
        // Dropped: shutdown(Write), with the read half alive.
        let (a, peer) = S::pair().await;
        let (read, write) = a.into_split();
        let (done, _) = write.write_all(b"last words".to_vec()).await;
        done.unwrap();
        drop(write);
        let got = read_exact(|buf| peer.read(buf), 10).await.unwrap();
        assert_eq!(got, b"last words");
        assert_end(
            peer.read(Vec::with_capacity(8)),
            "the peer, read half alive",
        )
        .await;
        let (done, _) = peer.write_all(b"reply".to_vec()).await;
        done.unwrap();
        assert_eq!(read_exact(|buf| read.read(buf), 5).await.unwrap(), b"reply");

        // Forgotten: no shutdown until the read half goes too.
        let (a, peer) = S::pair().await;
        let (read, write) = a.into_split();
        let (done, _) = write.write_all(b"x".to_vec()).await;
        done.unwrap();
        write.forget();
        assert_eq!(read_exact(|buf| peer.read(buf), 1).await.unwrap(), b"x");
        assert_quiet(peer.read(Vec::with_capacity(8)), "the peer after forget").await;
        drop(read);
        assert_end(peer.read(Vec::with_capacity(8)), "both halves gone").await;

        // Shut down explicitly: later writes fail; the drop after it is harmless.
        let (a, peer) = S::pair().await;
        let (read, write) = a.into_split();
        write.shutdown().await.unwrap();
        let (late, _) = write.write(b"late".to_vec()).await;
        assert_eq!(late.unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        assert_end(peer.read(Vec::with_capacity(8)), "after shutdown").await;
        drop(write);
        let (done, _) = peer.write_all(b"still open".to_vec()).await;
        done.unwrap();
        assert_eq!(
            read_exact(|buf| read.read(buf), 10).await.unwrap(),
            b"still open"
        );

        // Borrowed: dropping the write half does nothing.
        let (mut a, peer) = S::pair().await;
        {
            let (_read, write) = a.split();
            let (done, _) = write.write_all(b"borrowed, ".to_vec()).await;
            done.unwrap();
        } // both halves go here
        let (done, _) = a.write_all(b"unaffected".to_vec()).await;
        done.unwrap();
        let got = read_exact(|buf| peer.read(buf), 20).await.unwrap();
        assert_eq!(got, b"borrowed, unaffected");
        assert_quiet(
            peer.read(Vec::with_capacity(8)),
            "the peer after a borrowed drop",
        )
        .await;
    });
}

/// The borrowed halves of `split` write 1 MiB to an echo peer and read it back at once, in
/// one task (more than the socket buffers hold, so the two must run together); their
/// addresses are the stream's.
pub(crate) fn borrowed_halves_read_and_write_at_once<S: Kind>(flavor: Flavor) {
    const LEN: usize = 1024 * 1024;
    let rt = flavor.runtime();
    rt.block_on(async {
        let (mut a, b) = S::pair().await;
        let echo = create_task(async move {
            let mut echoed = 0;
            loop {
                let (n, buf) = b.read(Vec::with_capacity(32 * 1024)).await;
                if n? == 0 {
                    return io::Result::Ok(echoed);
                }
                echoed += buf.len();
                let (done, _) = b.write_all(buf).await;
                done?;
            }
        });
        let local = format!("{:?}", SplitStream::local_addr(&a).unwrap());
        let peer = format!("{:?}", SplitStream::peer_addr(&a).unwrap());
        let (read, write) = a.split();
        assert_eq!(format!("{:?}", read.local_addr().unwrap()), local);
        assert_eq!(format!("{:?}", read.peer_addr().unwrap()), peer);
        assert_eq!(format!("{:?}", write.local_addr().unwrap()), local);
        assert_eq!(format!("{:?}", write.peer_addr().unwrap()), peer);

        let sent = payload(4, LEN);
        let ((done, _), echoed) = ringloop::gather!(
            write.write_all(sent.clone()),
            read_exact(|buf| read.read(buf), LEN)
        )
        .await;
        done.unwrap();
        assert_same(&echoed.unwrap(), &sent, "the echo");
        // A second round: a partial `write` and a read, together.
        let ((n, _), (m, buf)) = ringloop::gather!(
            write.write(b"ping".to_vec()),
            read.read(Vec::with_capacity(8))
        )
        .await;
        assert_eq!(n.unwrap(), 4);
        let mut got = buf[..m.unwrap()].to_vec();
        got.extend(
            read_exact(|buf| read.read(buf), 4 - got.len())
                .await
                .unwrap(),
        );
        assert_eq!(got, b"ping");

        write.shutdown().await.unwrap();
        let (n, _) = read.read(Vec::with_capacity(8)).await;
        assert_eq!(
            n.unwrap(),
            0,
            "the echo task saw the end and dropped its end"
        );
        let echoed = echo.await.expect("the echo task failed").unwrap();
        assert_eq!(echoed, LEN + 4);
    });
}
