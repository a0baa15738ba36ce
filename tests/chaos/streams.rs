//! The connections' tasks: each side of a connection writes its direction's byte sequence
//! and reads the other's, concurrently, with ops dropped, polled through hostile wakers,
//! blocking and panicking on the way; acceptors take the connections off the listeners.
//!
//! # The protocol, and why it can be checked despite dropped writes
//!
//! Byte `i` of a direction is [`stream_byte`](crate::rng::stream_byte)`(key, i)`. Reads are
//! cancel-safe, so a reader may drop reads freely and must still see exactly the sequence:
//! it checks every byte as it arrives. Writes are not: a dropped `write_all` may have sent
//! any prefix of its bytes. So a writer whose write was dropped is *tainted*: it writes no
//! more and shuts its writing side down, and its reader must then have received an exact
//! prefix that contains every byte of the completed writes ([`Direction::confirmed`]) and
//! none beyond the dropped one ([`Direction::attempted`]). A writer that never drops a write
//! shuts down after the last byte, and the reader must receive all of them.
//!
//! A side closes its stream only after its reader saw the end of the stream, so a living side
//! never resets a connection; a side that is cancelled or panics may (unread data makes the
//! close a reset), and then only the prefix checks apply to its directions.
//!
//! A client first writes an 8-byte header (its connection's id and a magic number) that is
//! never dropped, so that the server side knows which connection it accepted, and the end
//! can check that every connection was accepted exactly once.

use crate::ops::Chaos;
use crate::plan::ConnKind;
use crate::poison_buf::PoisonBuf;
use crate::rng::{fill_stream, first_mismatch, stream_byte};
use crate::world::{Direction, Entry, ReaderEnd, Role, Stats, World, WriterEnd};
use ringloop::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use std::future::Future;
use std::io;
use std::net::Shutdown;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const MAGIC: u32 = 0xC4A0_5EED;
const HEADER: usize = 8;
/// The largest write, and the largest read buffer.
const MAX_WRITE: usize = 32 * 1024;
const MAX_READ: usize = 16 * 1024;

type OpFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
type BufResult<T> = (io::Result<T>, PoisonBuf);

/// A connected stream of either kind.
pub(crate) enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn read(&self, buf: PoisonBuf) -> OpFuture<'_, BufResult<usize>> {
        match self {
            Stream::Tcp(s) => Box::pin(s.read(buf)),
            Stream::Unix(s) => Box::pin(s.read(buf)),
        }
    }

    fn write(&self, buf: PoisonBuf) -> OpFuture<'_, BufResult<usize>> {
        match self {
            Stream::Tcp(s) => Box::pin(s.write(buf)),
            Stream::Unix(s) => Box::pin(s.write(buf)),
        }
    }

    fn write_all(&self, buf: PoisonBuf) -> OpFuture<'_, BufResult<()>> {
        match self {
            Stream::Tcp(s) => Box::pin(s.write_all(buf)),
            Stream::Unix(s) => Box::pin(s.write_all(buf)),
        }
    }

    fn shutdown_write(&self) -> OpFuture<'_, io::Result<()>> {
        match self {
            Stream::Tcp(s) => Box::pin(s.shutdown(Shutdown::Write)),
            Stream::Unix(s) => Box::pin(s.shutdown(Shutdown::Write)),
        }
    }
}

/// A listener of either kind.
pub(crate) enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

impl Listener {
    fn accept(&self) -> OpFuture<'_, io::Result<Stream>> {
        match self {
            Listener::Tcp(l) => Box::pin(async { Ok(Stream::Tcp(l.accept().await?.0)) }),
            Listener::Unix(l) => Box::pin(async { Ok(Stream::Unix(l.accept().await?.0)) }),
        }
    }
}

/// A client: connects, writes its header, then runs its side.
pub(crate) async fn client(world: Arc<World>, entry: Arc<Entry>, id: usize) {
    let role = Role::Client(id);
    let mut chaos = Chaos::new(&world, &role, 0).reporting(&entry);
    let conn = &world.conns[id];
    chaos.begin();
    let connected = match conn.kind {
        ConnKind::Tcp => {
            let addr = *world.tcp_addr.get().expect("the TCP listener is bound");
            let connect = TcpStream::connect(addr);
            chaos.op(connect, 0).await.map(|s| s.map(Stream::Tcp))
        }
        ConnKind::Unix => {
            let connect = UnixStream::connect(world.unix_path.clone());
            chaos.op(connect, 0).await.map(|s| s.map(Stream::Unix))
        }
        ConnKind::UnixPair => unreachable!("pairs are not connected"),
    };
    let stream = match connected.expect("never dropped") {
        Ok(stream) => stream,
        Err(e) => return world.failed(format!("{:?}#{id}: connect failed: {e}", conn.kind)),
    };
    let mut header = [0; HEADER];
    header[..4].copy_from_slice(&(id as u32).to_le_bytes());
    header[4..].copy_from_slice(&MAGIC.to_le_bytes());
    chaos.begin();
    let buf = world.pool.filled(&header, None);
    let (written, buf) = chaos
        .op(stream.write_all(buf), 0)
        .await
        .expect("never dropped");
    drop(buf.disarm());
    if let Err(e) = written {
        return world.failed(format!(
            "{:?}#{id}: the header write failed: {e}",
            conn.kind
        ));
    }
    entry.set_killable();
    let panics_at = world.plan.conns[id].client_panics_at;
    run_side(&world, &entry, &stream, &conn.up, &conn.down, panics_at).await;
}

/// A server side of an accepted connection: reads the header, then runs its side.
pub(crate) async fn server(world: Arc<World>, entry: Arc<Entry>, stream: Stream, n: u64) {
    let mut chaos = Chaos::new(&world, &entry.role(), n).reporting(&entry);
    let mut header = Vec::with_capacity(HEADER);
    while header.len() < HEADER {
        // Exactly what is missing, so that no byte of the data is read here.
        chaos.begin();
        let buf = chaos.take(HEADER - header.len());
        let drop_odds = world.plan.odds.drop_read;
        let Some((read, buf)) = chaos.op(stream.read(buf), drop_odds).await else {
            Stats::bump(&world.stats.dropped_reads);
            continue;
        };
        let buf = buf.disarm();
        match read {
            Ok(0) => {
                let got = header.len();
                return world.failed(format!("a connection ended after {got} header bytes"));
            }
            Ok(_) => header.extend_from_slice(buf.bytes()),
            Err(e) => return world.failed(format!("a header read failed: {e}")),
        }
    }
    let id = u32::from_le_bytes(header[..4].try_into().unwrap()) as usize;
    let magic = u32::from_le_bytes(header[4..].try_into().unwrap());
    if magic != MAGIC || id >= world.conns.len() {
        return world.violation(format!("a connection sent a bad header: {header:02x?}"));
    }
    let conn = &world.conns[id];
    if conn.accepted.fetch_add(1, Ordering::SeqCst) > 0 {
        world.violation(format!("{:?}#{id} was accepted twice", conn.kind));
    }
    let role = Role::Server(id);
    entry.set_role(role.clone());
    entry.set_killable();
    let panics_at = world.plan.conns[id].server_panics_at;
    run_side(&world, &entry, &stream, &conn.down, &conn.up, panics_at).await;
}

/// One side of a `UnixStream::pair()` connection: no header.
pub(crate) async fn pair_side(world: Arc<World>, entry: Arc<Entry>, stream: UnixStream) {
    let role = entry.role();
    let (id, client) = match role {
        Role::Client(id) => (id, true),
        Role::Server(id) => (id, false),
        _ => unreachable!("a pair side is a client or a server"),
    };
    let conn = &world.conns[id];
    let plan = &world.plan.conns[id];
    let stream = Stream::Unix(stream);
    if client {
        run_side(
            &world,
            &entry,
            &stream,
            &conn.up,
            &conn.down,
            plan.client_panics_at,
        )
        .await;
    } else {
        run_side(
            &world,
            &entry,
            &stream,
            &conn.down,
            &conn.up,
            plan.server_panics_at,
        )
        .await;
    }
}

/// Writes `out` and reads `inn` on `stream`, concurrently, in this task.
async fn run_side(
    world: &World,
    entry: &Arc<Entry>,
    stream: &Stream,
    out: &Direction,
    inn: &Direction,
    panics_at: Option<usize>,
) {
    let steps = AtomicUsize::new(0);
    let role = entry.role();
    let mut writer = Chaos::new(world, &role, 1).reporting(entry);
    let mut reader = Chaos::new(world, &role, 2).reporting(entry);
    ringloop::gather!(
        write_direction(&mut writer, stream, out, &steps, panics_at),
        read_direction(&mut reader, stream, inn, &steps, panics_at),
    )
    .await;
}

/// Writes the sequence of `dir` (see the module docs), then shuts the writing side down.
async fn write_direction(
    chaos: &mut Chaos<'_>,
    stream: &Stream,
    dir: &Direction,
    steps: &AtomicUsize,
    panics_at: Option<usize>,
) {
    let world = chaos.world;
    let odds = &world.plan.odds;
    let mut sent = 0;
    let mut end = WriterEnd::Done;
    while sent < dir.total {
        chaos.step(steps, panics_at).await;
        let len = chaos.rng.range(1..MAX_WRITE + 1).min(dir.total - sent);
        let mut bytes = vec![0; len];
        fill_stream(dir.key, sent as u64, &mut bytes);
        chaos.begin();
        let buf = chaos.filled(&bytes);
        dir.attempted.store(sent + len, Ordering::SeqCst);
        let written = if chaos.rng.one_in(odds.partial_write) {
            chaos.op(stream.write(buf), odds.drop_write).await
        } else {
            let all = chaos.op(stream.write_all(buf), odds.drop_write).await;
            all.map(|(result, buf)| (result.map(|()| len), buf))
        };
        let Some((written, buf)) = written else {
            Stats::bump(&world.stats.dropped_writes);
            end = WriterEnd::Tainted;
            break;
        };
        drop(buf.disarm());
        match written {
            Ok(n) if n > 0 && n <= len => {
                sent += n;
                dir.confirmed.store(sent, Ordering::SeqCst);
                dir.attempted.store(sent, Ordering::SeqCst);
            }
            Ok(n) => {
                end = WriterEnd::Failed(format!("a write of {len} bytes returned {n}"));
                break;
            }
            Err(e) => {
                end = WriterEnd::Failed(format!("write at byte {sent}: {e}"));
                break;
            }
        }
    }
    chaos.begin();
    let shut = chaos
        .op(stream.shutdown_write(), 0)
        .await
        .expect("never dropped");
    if let (Err(e), WriterEnd::Done) = (shut, &end) {
        end = WriterEnd::Failed(format!("shutdown(Write): {e}"));
    }
    *dir.writer.lock().unwrap() = end;
}

/// Reads `dir` to the end of the stream, checking each byte as it arrives.
async fn read_direction(
    chaos: &mut Chaos<'_>,
    stream: &Stream,
    dir: &Direction,
    steps: &AtomicUsize,
    panics_at: Option<usize>,
) {
    let world = chaos.world;
    let odds = &world.plan.odds;
    let mut got = 0;
    let end = loop {
        chaos.step(steps, panics_at).await;
        let cap = if chaos.rng.one_in(odds.tiny_read) {
            chaos.rng.range(1..17)
        } else {
            chaos.rng.range(1..MAX_READ + 1)
        };
        chaos.begin();
        let buf = chaos.take(cap);
        let Some((read, buf)) = chaos.op(stream.read(buf), odds.drop_read).await else {
            Stats::bump(&world.stats.dropped_reads);
            continue;
        };
        let buf = buf.disarm();
        let n = match read {
            Ok(0) => break ReaderEnd::Eof,
            Ok(n) => n,
            Err(e) => break ReaderEnd::Failed(format!("read at byte {got}: {e}")),
        };
        if let Some(corrupt) = check_bytes(dir, got, n, buf.bytes()) {
            break ReaderEnd::Corrupt(corrupt);
        }
        got += n;
        dir.received.store(got, Ordering::SeqCst);
        world.stats.bytes_received.fetch_add(n, Ordering::Relaxed);
    };
    *dir.reader.lock().unwrap() = end;
}

/// Checks that `bytes`, which a read returned as `n` bytes at position `at`, are the
/// sequence's; says what is wrong otherwise.
fn check_bytes(dir: &Direction, at: usize, n: usize, bytes: &[u8]) -> Option<String> {
    let name = &dir.name;
    if bytes.len() != n {
        return Some(format!(
            "{name}: a read returned {n} but its buffer holds {} bytes",
            bytes.len()
        ));
    }
    if at + n > dir.total {
        return Some(format!(
            "{name}: received {} bytes, more than the {} written",
            at + n,
            dir.total
        ));
    }
    first_mismatch(dir.key, at as u64, bytes).map(|i| {
        let pos = at + i;
        let expected = stream_byte(dir.key, pos as u64);
        let seen = &bytes[i..bytes.len().min(i + 8)];
        format!(
            "{name}: byte {pos} is {:#04x}, expected {expected:#04x} (the read of {n} bytes \
             at {at} holds {seen:02x?} there, which the sequence has at {:?})",
            bytes[i],
            find_in_sequence(dir, seen)
        )
    })
}

/// Where in `dir`'s sequence `window` occurs (the first few places): a lost chunk shows as a
/// later position, a repeated one as an earlier one, poison (0xdb...) as none.
fn find_in_sequence(dir: &Direction, window: &[u8]) -> Vec<usize> {
    (0..dir.total.saturating_sub(window.len()) + 1)
        .filter(|&p| first_mismatch(dir.key, p as u64, window).is_none())
        .take(4)
        .collect()
}

/// Accepts `quota` connections from `listener`, while other acceptors accept from it too,
/// dropping accepts in flight now and then, and spawns a server side for each.
///
/// The quotas add up to the connections made: an acceptor that misses a wake-up (several of
/// them wait on the listener's leftovers while a dropped accept is in flight) leaves its
/// share in the listener's queue, and the seed is stuck rather than quietly served by the
/// others.
pub(crate) async fn acceptor(
    world: Arc<World>,
    entry: Arc<Entry>,
    listener: Arc<Listener>,
    quota: usize,
    n: u64,
) {
    let role = entry.role();
    let mut chaos = Chaos::new(&world, &role, n).reporting(&entry);
    let mut accepted = 0;
    while accepted < quota {
        let drop_odds = world.plan.odds.drop_accept;
        chaos.begin();
        match chaos.op(listener.accept(), drop_odds).await {
            None => Stats::bump(&world.stats.dropped_accepts),
            Some(Ok(stream)) => {
                accepted += 1;
                *entry.doing.lock().unwrap() = format!("accepted {accepted} of {quota}");
                let n = n << 32 | accepted as u64;
                world.spawn(Role::Server(usize::MAX), |entry| {
                    server(world.clone(), entry, stream, n)
                });
            }
            Some(Err(e)) => {
                return world.failed(format!("{role:?}: an accept failed: {e}"));
            }
        }
    }
}
