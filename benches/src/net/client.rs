//! The load generator: one thread, non-blocking sockets, epoll (through `mio`).
//!
//! Every TCP workload drives its server with this same code, whatever the server's runtime.
//! It opens `connections` connections (`TCP_NODELAY`), keeps one message of `message_size`
//! bytes in flight on each (write it, read the whole echo, write the next), and counts the
//! round trips completed inside the measurement window that follows the warm-up (see
//! [`Tally`]). It pins itself to the last CPU it may use (or to `RINGLOOP_BENCH_CLIENT_CPU`),
//! so on a two-CPU machine client and server share the CPUs without the client wandering
//! between them.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use super::accounting::{Exchange, Tally};
use crate::os;

/// How often the client looks at its stop flag while no socket is ready.
const STOP_CHECK: Duration = Duration::from_millis(10);

/// What the load generator does.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The echo server.
    pub addr: SocketAddr,
    /// Connections, each with one message in flight.
    pub connections: usize,
    /// Bytes per request (and per echo).
    pub message_size: usize,
    /// Traffic before the window, not counted.
    pub warm_up: Duration,
    /// The measurement window.
    pub window: Duration,
    /// Whether to keep every round-trip time of the window.
    pub keep_rtts: bool,
    /// Incremented at every completed round trip, warm-up included, for callers that time
    /// their own window (`syscalls_per_message`).
    pub progress: Option<Arc<AtomicU64>>,
    /// Ends the run early once set.
    pub stop: Option<Arc<AtomicBool>>,
}

impl ClientConfig {
    /// `connections` connections to `addr` with `message_size`-byte messages, measured for
    /// `window` after `warm_up`, keeping no round-trip times.
    pub fn new(
        addr: SocketAddr,
        connections: usize,
        message_size: usize,
        warm_up: Duration,
        window: Duration,
    ) -> Self {
        ClientConfig {
            addr,
            connections,
            message_size,
            warm_up,
            window,
            keep_rtts: false,
            progress: None,
            stop: None,
        }
    }
}

/// What the load generator measured.
#[derive(Debug, Clone, Default)]
pub struct ClientReport {
    /// Round trips completed inside the window.
    pub messages: u64,
    /// Round trips per second over the window.
    pub per_second: f64,
    /// The window's round-trip times in nanoseconds, if asked for.
    pub rtts: Vec<u64>,
    /// The CPU the client was pinned to, if pinning worked.
    pub pinned_cpu: Option<usize>,
    /// CPU time the rest of this process (the server under test, when it runs in the same
    /// process) used during the window: process CPU time minus the client thread's own.
    /// `None` if the window never started.
    pub others_cpu: Option<Duration>,
    /// Busy time of the whole machine during the window, all CPUs
    /// ([`os::system_busy_time`]): server, client, and the kernel's interrupt and softirq
    /// work. `None` if the window never started or `/proc/stat` could not be read.
    pub system_cpu: Option<Duration>,
    /// Open loop only ([`super::run_open_loop`]): requests due in the window that were
    /// never answered (their `rtts` entries are lower bounds). Zero for the closed loop.
    pub incomplete: u64,
}

/// The process's and the client thread's CPU clocks at one moment.
#[derive(Debug, Clone, Copy)]
struct CpuMark {
    process: Duration,
    thread: Duration,
    system: Option<Duration>,
}

impl CpuMark {
    fn now() -> CpuMark {
        CpuMark {
            process: os::process_cpu_time(),
            thread: os::thread_cpu_time(),
            system: os::system_busy_time(),
        }
    }

    /// Busy time of the whole machine between `self` and `later`.
    fn system_until(self, later: CpuMark) -> Option<Duration> {
        Some(later.system?.saturating_sub(self.system?))
    }

    /// CPU time other threads of the process used between `self` and `later`.
    fn others_until(self, later: CpuMark) -> Duration {
        (later.process.saturating_sub(self.process))
            .saturating_sub(later.thread.saturating_sub(self.thread))
    }
}

/// Runs the load generator on a new thread (`bench-load`).
///
/// # Errors
///
/// If the thread cannot be started; the thread's own result reports connection errors.
pub fn spawn_client(
    config: ClientConfig,
) -> io::Result<thread::JoinHandle<io::Result<ClientReport>>> {
    thread::Builder::new()
        .name("bench-load".to_owned())
        .spawn(move || run_client(&config))
}

struct Conn {
    stream: TcpStream,
    exchange: Exchange,
}

/// Runs the load generator on the calling thread (pinning it); see the module docs.
///
/// # Errors
///
/// A failed connect, a read or write error, the server closing a connection, or an echo
/// longer than the message.
pub fn run_client(config: &ClientConfig) -> io::Result<ClientReport> {
    let pinned_cpu = os::pin_to_client_cpu();
    let mut poll = Poll::new()?;
    let now = Instant::now();
    let mut conns: Vec<Conn> = connect_all(config, &poll)?
        .into_iter()
        .map(|stream| Conn {
            stream,
            exchange: Exchange::new(config.message_size, now),
        })
        .collect();
    let payload = vec![0xa5_u8; config.message_size];
    let mut buf = vec![0_u8; config.message_size.max(64 * 1024)];
    let mut tally = Tally::new(
        Instant::now() + config.warm_up,
        config.window,
        config.keep_rtts,
    );
    let now = Instant::now();
    for conn in &mut conns {
        conn.exchange.restart(now);
        write_some(conn, &payload)?;
    }
    let mut events = Events::with_capacity(1024);
    let mut window_cpu: Option<CpuMark> = None;
    loop {
        let now = Instant::now();
        if window_cpu.is_none() && tally.has_started(now) {
            window_cpu = Some(CpuMark::now());
        }
        let stopped = config
            .stop
            .as_ref()
            .is_some_and(|s| s.load(Ordering::Relaxed));
        if tally.is_over(now) || stopped {
            break;
        }
        let timeout = (tally.end() - now).min(STOP_CHECK);
        match poll.poll(&mut events, Some(timeout)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => result?,
        }
        for event in &events {
            let conn = &mut conns[event.token().0];
            if event.is_readable() {
                read_all(conn, &mut buf, &payload, &mut tally, config)?;
            }
            if event.is_writable() && conn.exchange.unwritten() > 0 {
                write_some(conn, &payload)?;
            }
        }
    }
    let end = CpuMark::now();
    let others_cpu = window_cpu.map(|start| start.others_until(end));
    let system_cpu = window_cpu.and_then(|start| start.system_until(end));
    let messages = tally.messages();
    let per_second = tally.per_second();
    Ok(ClientReport {
        messages,
        per_second,
        rtts: tally.into_rtts(),
        pinned_cpu,
        others_cpu,
        system_cpu,
        incomplete: 0,
    })
}

/// Opens `config.connections` connections to `config.addr` (`TCP_NODELAY`, non-blocking),
/// each registered with `poll` for reads and writes under its index as token.
pub(super) fn connect_all(config: &ClientConfig, poll: &Poll) -> io::Result<Vec<TcpStream>> {
    (0..config.connections)
        .map(|i| {
            let stream = std::net::TcpStream::connect(config.addr)?;
            stream.set_nodelay(true)?;
            stream.set_nonblocking(true)?;
            let mut stream = TcpStream::from_std(stream);
            poll.registry().register(
                &mut stream,
                Token(i),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            Ok(stream)
        })
        .collect()
}

/// Writes what is left of the current request until done or the socket is full.
fn write_some(conn: &mut Conn, payload: &[u8]) -> io::Result<()> {
    while conn.exchange.unwritten() > 0 {
        let from = payload.len() - conn.exchange.unwritten();
        match conn.stream.write(&payload[from..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => conn.exchange.wrote(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads until the current echo is complete (then counts it and starts the next request at
/// once) or the socket is empty.
fn read_all(
    conn: &mut Conn,
    buf: &mut [u8],
    payload: &[u8],
    tally: &mut Tally,
    config: &ClientConfig,
) -> io::Result<()> {
    loop {
        match conn.stream.read(buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed a connection",
                ))
            }
            Ok(n) => {
                let now = Instant::now();
                let done = conn
                    .exchange
                    .received(n, now)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                if let Some(rtt) = done {
                    tally.record(now, rtt);
                    if let Some(progress) = &config.progress {
                        progress.fetch_add(1, Ordering::Relaxed);
                    }
                    conn.exchange.restart(now);
                    write_some(conn, payload)?;
                    // One message is in flight per connection: nothing more can be in the
                    // socket until the server answers the request just written, and that
                    // answer raises a new edge. Reading on to `WouldBlock` would add a
                    // syscall per message to the client and blunt the comparison.
                    return Ok(());
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
