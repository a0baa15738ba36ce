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

use mio::event::Event;
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Registry, Token};

use super::accounting::{Exchange, Tally};
use super::mix::{RequestMix, FAST};
use crate::os;
use crate::runner::SplitMix64;

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
    /// `Some`: each request's class is drawn from this mix and written in its bytes (see
    /// `net/mix.rs`), and only the plain echoes' round-trip times are kept (every request
    /// counts). `None`: every request is a plain echo.
    pub mix: Option<RequestMix>,
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
            mix: None,
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
pub(super) struct CpuMark {
    process: Duration,
    thread: Duration,
    system: Option<Duration>,
}

impl CpuMark {
    pub(super) fn now() -> CpuMark {
        CpuMark {
            process: os::process_cpu_time(),
            thread: os::thread_cpu_time(),
            system: os::system_busy_time(),
        }
    }

    /// Busy time of the whole machine between `self` and `later`.
    pub(super) fn system_until(self, later: CpuMark) -> Option<Duration> {
        Some(later.system?.saturating_sub(self.system?))
    }

    /// CPU time other threads of the process used between `self` and `later`.
    pub(super) fn others_until(self, later: CpuMark) -> Duration {
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
    /// The class byte of the request in flight ([`super::mix::FAST`] without a mix).
    class: u8,
}

/// The request bytes of each class: every byte of a request is its class byte (see
/// `net/mix.rs`).
struct Payloads {
    by_class: Vec<Vec<u8>>,
    mix: Option<(RequestMix, SplitMix64)>,
}

/// The seed of the mixed rows' class draws: the same sequence for every runtime.
const MIX_SEED: u64 = 0x6d69_7865_6420_726f;

impl Payloads {
    fn new(config: &ClientConfig) -> Self {
        let classes = if config.mix.is_some() { 256 } else { 1 };
        Payloads {
            by_class: (0..classes)
                .map(|class| vec![class as u8; config.message_size])
                .collect(),
            mix: config.mix.map(|mix| (mix, SplitMix64::new(MIX_SEED))),
        }
    }

    /// The class of the next request.
    fn draw(&mut self) -> u8 {
        match &mut self.mix {
            Some((mix, rng)) => mix.draw(rng),
            None => FAST,
        }
    }

    fn of(&self, class: u8) -> &[u8] {
        &self.by_class[usize::from(class)]
    }
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
    let mut payloads = Payloads::new(config);
    let mut conns: Vec<Conn> = connect_all(config, &poll)?
        .into_iter()
        .map(|stream| Conn {
            stream,
            exchange: Exchange::new(config.message_size, now),
            class: payloads.draw(),
        })
        .collect();
    let mut buf = vec![0_u8; config.message_size.max(64 * 1024)];
    let tally = Tally::new(
        Instant::now() + config.warm_up,
        config.window,
        config.keep_rtts,
    );
    let now = Instant::now();
    for conn in &mut conns {
        conn.exchange.restart(now);
        write_some(conn, payloads.of(conn.class))?;
    }
    drive(config, &mut poll, tally, pinned_cpu, |_, event, tally| {
        let conn = &mut conns[event.token().0];
        if event.is_readable() {
            read_all(conn, &mut buf, &mut payloads, tally, config)?;
        }
        if event.is_writable() && conn.exchange.unwritten() > 0 {
            write_some(conn, payloads.of(conn.class))?;
        }
        Ok(())
    })
}

/// The event loop both load generators share: polls until `tally`'s window is over or
/// `config.stop` is set, hands every event to `on_event` (with the registry, for clients
/// that open sockets as they go), and reports the window's counts and CPU times.
pub(super) fn drive(
    config: &ClientConfig,
    poll: &mut Poll,
    mut tally: Tally,
    pinned_cpu: Option<usize>,
    mut on_event: impl FnMut(&Registry, &Event, &mut Tally) -> io::Result<()>,
) -> io::Result<ClientReport> {
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
            on_event(poll.registry(), event, &mut tally)?;
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
    payloads: &mut Payloads,
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
                    if conn.class == FAST {
                        tally.record(now, rtt);
                    } else {
                        tally.count(now);
                    }
                    if let Some(progress) = &config.progress {
                        progress.fetch_add(1, Ordering::Relaxed);
                    }
                    conn.exchange.restart(now);
                    conn.class = payloads.draw();
                    write_some(conn, payloads.of(conn.class))?;
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

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::thread;

    use super::*;
    use crate::net::mix::BLOCK;

    /// With a mix, each request is its class byte repeated, and only the plain echoes'
    /// times are kept while every request counts.
    #[test]
    fn a_mixed_client_writes_each_class_and_keeps_the_fast_times() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut classes = Vec::new();
            let mut request = [0_u8; 16];
            while stream.read_exact(&mut request).is_ok() {
                assert!(request.iter().all(|&b| b == request[0]), "{request:?}");
                classes.push(request[0]);
                if stream.write_all(&request).is_err() {
                    break;
                }
            }
            classes
        });
        let mix = RequestMix {
            burn_one_in: 4,
            burn_us: (10, 20),
            block_one_in: 0,
        };
        let config = ClientConfig {
            keep_rtts: true,
            mix: Some(mix),
            ..ClientConfig::new(addr, 1, 16, Duration::ZERO, Duration::from_millis(200))
        };
        let report = run_client(&config).unwrap();
        let classes = server.join().unwrap();
        let burns = classes.iter().filter(|&&c| c != FAST).count();
        assert!(classes.len() >= 100, "{} requests", classes.len());
        assert!(classes.iter().all(|&c| c == FAST || (10..=20).contains(&c)));
        assert!(!classes.contains(&BLOCK));
        assert!(
            burns * 8 > classes.len() && burns * 3 < classes.len(),
            "{burns} burns"
        );
        // Every request in the window counted; fewer times kept (the burns' are left out).
        assert!((report.rtts.len() as u64) < report.messages);
        assert!(report.rtts.len() as u64 * 2 > report.messages);
    }
}
