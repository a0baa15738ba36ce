//! Turning a host name and port into socket addresses without blocking a worker.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// The addresses of `host:port`, in the resolver's order. An IP literal is parsed in place;
/// a name is resolved on the blocking pool (`getaddrinfo` blocks). An empty `host` means
/// every interface: `0.0.0.0` and `::` (for servers).
pub(crate) async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if host.is_empty() {
        return Ok(vec![
            SocketAddr::new(IpAddr::from([0u8; 4]), port),
            SocketAddr::new(IpAddr::from([0u16; 8]), port),
        ]);
    }
    // `[::1]` as well as `::1`.
    let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    if let Ok(ip) = literal.unwrap_or(host).parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let name = host.to_owned();
    let lookup = crate::to_thread(move || (name.as_str(), port).to_socket_addrs());
    let addrs: Vec<SocketAddr> = match lookup.await {
        Ok(result) => result?.collect(),
        Err(e) => {
            let message = format!("ringloop: resolving {host:?} did not finish: {e}");
            return Err(io::Error::other(message));
        }
    };
    if addrs.is_empty() {
        let message = format!("ringloop: {host:?} has no address");
        return Err(io::Error::new(io::ErrorKind::NotFound, message));
    }
    Ok(addrs)
}
