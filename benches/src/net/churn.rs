//! The connection-churn load generator of `accept_churn`: connect, one request, close.
//!
//! One pinned thread (like [`super::run_client`], epoll through `mio`) keeps
//! `config.connections` connection attempts going at once. Each one connects
//! (non-blocking), writes one request of `config.message_size` bytes, reads the whole echo,
//! and closes; its slot at once opens the next connection. A connection counts when its
//! echo is complete inside the window, and its time is from the start of `connect` to the
//! last byte of the echo: handshake, accept, the server's task start, one round trip.
//!
//! The client closes first, so the `TIME_WAIT` state stays on its side, holding the
//! connection's source port. The kernel reuses such a port for a new connection to the same
//! destination only once its `TIME_WAIT` is a second old (`net.ipv4.tcp_tw_reuse`, whose
//! default of 2 allows it on loopback), so one source address gives at most about 28,000
//! connections per second (the ephemeral range): a limit of the host, which a fast server
//! reaches. The client therefore connects from [`SOURCE_ADDRESSES`] loopback addresses in
//! turn (127.0.0.1, 127.0.0.2, ...; all of 127.0.0.0/8 is the loopback device), each with
//! ports of its own, with `IP_BIND_ADDRESS_NO_PORT` so the port is picked at connect time.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::time::Instant;

use mio::net::TcpStream;
use mio::{Interest, Poll, Registry, Token};
use socket2::{Domain, Protocol, Socket, Type};

use super::accounting::{Exchange, Tally};
use super::client::{drive, ClientConfig, ClientReport};
use crate::os;

/// The loopback addresses the client connects from, in turn: 16 times the ephemeral ports
/// of one address (see the module docs).
pub(crate) const SOURCE_ADDRESSES: u8 = 16;

/// One connection attempt in flight.
struct Slot {
    stream: TcpStream,
    /// Set once the handshake has completed (the first writable event with a peer).
    connected: bool,
    /// The request and its echo; started when `connect` was called.
    exchange: Exchange,
}

/// Runs the churn client on the calling thread (pinning it); see the module docs.
/// [`ClientReport::messages`] counts the connections completed in the window and
/// [`ClientReport::rtts`] holds their times (if `config.keep_rtts`).
///
/// # Errors
///
/// A refused or failed connection, a read or write error, the server closing a connection
/// before its echo, or an echo longer than the request.
pub fn run_churn(config: &ClientConfig) -> io::Result<ClientReport> {
    let pinned_cpu = os::pin_to_client_cpu();
    let mut poll = Poll::new()?;
    let payload = vec![0xa5_u8; config.message_size];
    let mut buf = vec![0_u8; config.message_size.max(4096)];
    let mut opened: u64 = 0;
    let mut slots: Vec<Slot> = (0..config.connections)
        .map(|i| open(config, poll.registry(), i, &mut opened))
        .collect::<io::Result<_>>()?;
    let tally = Tally::new(
        Instant::now() + config.warm_up,
        config.window,
        config.keep_rtts,
    );
    drive(
        config,
        &mut poll,
        tally,
        pinned_cpu,
        |registry, event, tally| {
            let index = event.token().0;
            let slot = &mut slots[index];
            if event.is_writable() && !slot.connected {
                if !handshake_done(slot)? {
                    return Ok(());
                }
                write_some(slot, &payload)?;
            } else if event.is_writable() && slot.exchange.unwritten() > 0 {
                write_some(slot, &payload)?;
            }
            if (event.is_readable() || event.is_read_closed()) && slot.connected {
                if let Some(time) = read_echo(slot, &mut buf)? {
                    tally.record(Instant::now(), time);
                    // Closes this connection (the client closes first) and opens the next.
                    *slot = open(config, registry, index, &mut opened)?;
                }
            }
            Ok(())
        },
    )
}

/// Starts a non-blocking connect for slot `index`, registered under its index, from the
/// next of the [`SOURCE_ADDRESSES`] (`opened` counts the connections opened so far).
fn open(
    config: &ClientConfig,
    registry: &Registry,
    index: usize,
    opened: &mut u64,
) -> io::Result<Slot> {
    let started = Instant::now();
    let source = Ipv4Addr::new(127, 0, 0, 1 + (*opened % u64::from(SOURCE_ADDRESSES)) as u8);
    *opened += 1;
    let socket = Socket::new(
        Domain::IPV4,
        Type::STREAM.nonblocking().cloexec(),
        Some(Protocol::TCP),
    )?;
    bind_address_no_port(&socket)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(source, 0)).into())?;
    match socket.connect(&config.addr.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let mut stream = TcpStream::from_std(socket.into());
    registry.register(
        &mut stream,
        Token(index),
        Interest::READABLE | Interest::WRITABLE,
    )?;
    Ok(Slot {
        stream,
        connected: false,
        exchange: Exchange::new(config.message_size, started),
    })
}

/// Sets `IP_BIND_ADDRESS_NO_PORT` on `socket`: a `bind` to port 0 leaves the port to
/// `connect`, which picks one free for the whole 4-tuple rather than for the address alone.
fn bind_address_no_port(socket: &Socket) -> io::Result<()> {
    let on: libc::c_int = 1;
    // SAFETY: `socket` is an open socket for the whole call, and the option value is a
    // `c_int` that lives across the call, passed with its exact size.
    let result = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&raw const on).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// After a writable event on a connecting socket: whether the handshake has completed.
/// An event before the connection is up (no peer yet) is spurious; a failed connect is
/// an error.
fn handshake_done(slot: &mut Slot) -> io::Result<bool> {
    if let Some(error) = slot.stream.take_error()? {
        return Err(io::Error::new(
            error.kind(),
            format!("connect failed: {error}"),
        ));
    }
    match slot.stream.peer_addr() {
        Ok(_) => {
            slot.stream.set_nodelay(true)?;
            slot.connected = true;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes what is left of the request until done or the socket is full.
fn write_some(slot: &mut Slot, payload: &[u8]) -> io::Result<()> {
    while slot.exchange.unwritten() > 0 {
        let from = payload.len() - slot.exchange.unwritten();
        match slot.stream.write(&payload[from..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => slot.exchange.wrote(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads until the echo is complete (returns the connection's time) or the socket is
/// empty (returns `None`).
fn read_echo(slot: &mut Slot, buf: &mut [u8]) -> io::Result<Option<std::time::Duration>> {
    loop {
        match slot.stream.read(buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed a connection before its echo",
                ))
            }
            Ok(n) => {
                let done = slot
                    .exchange
                    .received(n, Instant::now())
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                if done.is_some() {
                    return Ok(done);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::thread;
    use std::time::Duration;

    use super::*;

    type Peers = Arc<parking_lot::Mutex<std::collections::HashSet<std::net::IpAddr>>>;

    /// A blocking echo server, a thread per connection; counts connections it saw end and
    /// collects their source addresses.
    fn echo_server() -> (std::net::SocketAddr, Arc<AtomicUsize>, Peers) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let ended = Arc::new(AtomicUsize::new(0));
        let counted = ended.clone();
        let peers = Peers::default();
        let seen = peers.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                seen.lock().insert(stream.peer_addr().unwrap().ip());
                let counted = counted.clone();
                thread::spawn(move || {
                    let mut buf = [0; 256];
                    while let Ok(n @ 1..) = stream.read(&mut buf) {
                        if stream.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    counted.fetch_add(1, Ordering::Relaxed);
                });
            }
        });
        (addr, ended, peers)
    }

    #[test]
    fn every_connection_is_used_once_and_closed() {
        let (addr, ended, peers) = echo_server();
        let config = ClientConfig {
            keep_rtts: true,
            ..ClientConfig::new(
                addr,
                4,
                64,
                Duration::from_millis(20),
                Duration::from_millis(200),
            )
        };
        let report = run_churn(&config).unwrap();
        assert!(report.messages >= 20, "{} connections", report.messages);
        assert_eq!(report.rtts.len() as u64, report.messages);
        // The server saw each counted connection end (the client closed it), give or take
        // the few still in flight when the window closed.
        let deadline = Instant::now() + Duration::from_secs(5);
        while (ended.load(Ordering::Relaxed) as u64) < report.messages && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(5));
        }
        assert!(ended.load(Ordering::Relaxed) as u64 >= report.messages);
        // Connections come from every source address in turn.
        assert_eq!(peers.lock().len(), usize::from(SOURCE_ADDRESSES));
    }

    #[test]
    fn a_refused_connection_is_an_error() {
        // Bind a port, then close it: nothing listens there.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let config = ClientConfig::new(addr, 2, 64, Duration::ZERO, Duration::from_millis(100));
        let error = run_churn(&config).unwrap_err();
        assert!(
            error.to_string().contains("connect failed")
                || error.kind() == io::ErrorKind::ConnectionRefused,
            "{error}"
        );
    }
}
