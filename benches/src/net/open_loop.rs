//! The open-loop load generator: requests at a constant rate, whatever the server's pace.
//!
//! The closed loop of `client.rs` sends a connection's next request only once its echo is
//! back, so a server that stalls is also sent less: its slow moments produce few samples,
//! and the percentiles hide them (coordinated omission). Here request `k` is due at
//! `start + k / rate`, on connection `k % connections`, whether or not the server kept up.
//! A request due while its connection still waits for an echo queues behind it (one
//! message in flight per connection, as a client with one request at a time per
//! connection), and every latency is measured from the request's *due* time, so the time
//! it spent queued counts.
//!
//! Requests are due from the start of the warm-up to the end of the window; those due
//! inside the window are measured. After the window the client waits up to [`DRAIN`] for
//! the window's requests still unanswered; any left then are counted as incomplete and
//! their latency is taken as at least the time they waited (a lower bound, so a server
//! that falls behind cannot look better by never answering).
//!
//! The schedule is kept to within microseconds: the thread sleeps in epoll while the next
//! due time is more than [`SPIN_WITHIN`] away, and polls without blocking closer to it.
//! At high rates its CPU is therefore busy; it has a CPU of its own (see
//! `runner/placement.rs`), and open-loop rows report no CPU figures.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Poll};

use super::client::{connect_all, ClientConfig, ClientReport};
use crate::os;

/// How long after the window the client waits for the window's last echoes.
const DRAIN: Duration = Duration::from_secs(2);

/// Closer than this to the next due time, the client polls without blocking (epoll's
/// timeout has millisecond steps, and mio rounds it up).
const SPIN_WITHIN: Duration = Duration::from_millis(2);

/// One connection: its socket, the due times of its requests not yet answered (the first
/// is in flight), and how much of the one in flight is written and echoed.
struct Conn {
    stream: TcpStream,
    due: VecDeque<Instant>,
    written: usize,
    received: usize,
}

/// Runs the open-loop load generator on the calling thread (pinning it): `rate` requests
/// per second over `config`'s connections, warm-up and window (`keep_rtts` is implied:
/// the report's `rtts` are the window's latencies from due time, in nanoseconds).
///
/// # Errors
///
/// A failed connect, a read or write error, the server closing a connection, or an echo
/// longer than the message.
pub fn run_open_loop(config: &ClientConfig, rate: f64) -> io::Result<ClientReport> {
    if !(rate.is_finite() && rate > 0.0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("an open-loop rate must be positive, not {rate}"),
        ));
    }
    if config.connections == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "an open loop needs at least one connection",
        ));
    }
    let pinned_cpu = os::pin_to_client_cpu();
    let mut poll = Poll::new()?;
    let mut conns: Vec<Conn> = connect_all(config, &poll)?
        .into_iter()
        .map(|stream| Conn {
            stream,
            due: VecDeque::new(),
            written: 0,
            received: 0,
        })
        .collect();
    let payload = vec![0xa5_u8; config.message_size];
    let mut buf = vec![0_u8; config.message_size.max(64 * 1024)];
    let start = Instant::now();
    let window_start = start + config.warm_up;
    let window_end = window_start + config.window;
    let due_at = |k: u64| start + Duration::from_secs_f64(k as f64 / rate);
    let in_window = |due: Instant| due >= window_start && due < window_end;
    let connections = conns.len() as u64;
    let mut next = 0_u64;
    let mut latencies = Vec::new();
    let mut outstanding_in_window = 0_u64;
    let mut events = Events::with_capacity(1024);
    loop {
        let now = Instant::now();
        // Issue every request now due.
        loop {
            let due = due_at(next);
            if due > now || due >= window_end {
                break;
            }
            let conn = &mut conns[(next % connections) as usize];
            conn.due.push_back(due);
            if in_window(due) {
                outstanding_in_window += 1;
            }
            if conn.due.len() == 1 {
                (conn.written, conn.received) = (0, 0);
                write_some(conn, &payload)?;
            }
            next += 1;
        }
        if now >= window_end && outstanding_in_window == 0 {
            break;
        }
        if now >= window_end + DRAIN {
            break;
        }
        let next_due = due_at(next);
        let timeout = if next_due >= window_end {
            SPIN_WITHIN
        } else {
            next_due
                .saturating_duration_since(now)
                .saturating_sub(SPIN_WITHIN)
        };
        match poll.poll(&mut events, Some(timeout)) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            result => result?,
        }
        for event in &events {
            let conn = &mut conns[event.token().0];
            if event.is_readable() {
                if let Some(due) = read_echo(conn, &mut buf, &payload)? {
                    if in_window(due) {
                        outstanding_in_window -= 1;
                        let latency = Instant::now().saturating_duration_since(due);
                        latencies.push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
                    }
                }
            }
            if event.is_writable() && !conn.due.is_empty() && conn.written < payload.len() {
                write_some(conn, &payload)?;
            }
        }
    }
    // The window's requests never answered: at least as late as the wait so far.
    let end = Instant::now();
    let completed = latencies.len() as u64;
    for conn in &conns {
        for &due in conn.due.iter().filter(|&&due| in_window(due)) {
            let waited = end.saturating_duration_since(due);
            latencies.push(u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX));
        }
    }
    Ok(ClientReport {
        messages: completed,
        per_second: completed as f64 / config.window.as_secs_f64(),
        rtts: latencies,
        pinned_cpu,
        others_cpu: None,
        system_cpu: None,
        incomplete: outstanding_in_window,
    })
}

/// Writes what is left of the request in flight until done or the socket is full.
fn write_some(conn: &mut Conn, payload: &[u8]) -> io::Result<()> {
    while conn.written < payload.len() {
        match conn.stream.write(&payload[conn.written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => conn.written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads the echo of the request in flight; once it is whole, starts the connection's next
/// queued request and returns the due time of the one answered.
fn read_echo(conn: &mut Conn, buf: &mut [u8], payload: &[u8]) -> io::Result<Option<Instant>> {
    loop {
        match conn.stream.read(buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed a connection",
                ))
            }
            Ok(n) => {
                conn.received += n;
                if conn.due.is_empty() || conn.received > payload.len() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "the server sent back {} bytes for a {}-byte message",
                            conn.received,
                            payload.len()
                        ),
                    ));
                }
                if conn.received == payload.len() {
                    let due = conn.due.pop_front();
                    (conn.written, conn.received) = (0, 0);
                    if !conn.due.is_empty() {
                        write_some(conn, payload)?;
                    }
                    // One message in flight: nothing more can be in the socket until the
                    // server answers the request just written (see `client.rs`).
                    return Ok(due);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}
