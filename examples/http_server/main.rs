//! An HTTP/1.1 server on ringloop's streams: keep-alive, pipelining, `Content-Length` and
//! chunked request bodies, and limits.
//!
//! ```text
//! cargo run --release --example http_server -- --port 8080 [--flavor multi|single] [--workers N]
//! curl http://127.0.0.1:8080/                            # Hello, World!
//! curl --data-binary @file http://127.0.0.1:8080/echo   # the file back
//! wrk -t2 -c100 -d10s http://127.0.0.1:8080/
//! ```
//!
//! The parser (`http.rs`) and the request state machine (`conn.rs`) know nothing of the
//! runtime; this file is the server around them: each connection hands every byte it has to
//! the state machine, writes the responses it made in one go and drains, then waits for
//! more. Limits: 8 KiB of request head (else `431`), 1 MiB of body (`413`); a malformed
//! request is `400`; each closes the connection after the response.
//!
//! SIGINT/SIGTERM: stop accepting, let connections finish what they have received, exit 0.

#[path = "../support/server_main.rs"]
mod server_main;
#[path = "../support/shutdown.rs"]
mod shutdown;

mod conn;
mod http;

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ringloop::streams::{ServerConfig, StreamReader, StreamWriter};

use crate::conn::{Connection, Flow};
use crate::http::Limits;
use crate::shutdown::Stop;

/// How long a connection closed by the server keeps reading (and dropping) what the client
/// still sends, so that its last response is not lost to a reset (a "lingering close").
const LINGER: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    server_main::run("http_server", 8080, |setup, _workers| async move {
        let stop = setup.stop;
        let serve = move |reader, writer| serve(Arc::clone(&stop), reader, writer);
        ServerConfig::new()
            .backlog(1024)
            .start(serve, &setup.host, setup.port)
            .await
    })
}

/// Serves one connection; connection resets are the client's business, not errors.
async fn serve(stop: Arc<Stop>, reader: StreamReader, writer: StreamWriter) -> io::Result<()> {
    match serve_requests(&stop, reader, &writer).await {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

async fn serve_requests(
    stop: &Stop,
    mut reader: StreamReader,
    writer: &StreamWriter,
) -> io::Result<()> {
    let mut stopped = std::pin::pin!(stop.event().wait());
    let mut connection = Connection::new(Limits::DEFAULT);
    let mut out = Vec::with_capacity(4096);
    loop {
        let (used, flow) = connection.process(reader.buffer(), &mut out);
        reader.consume(used);
        if !out.is_empty() {
            writer.write(&out)?;
            out.clear();
            if out.capacity() > 64 * 1024 {
                out = Vec::with_capacity(4096);
            }
            writer.drain().await?;
        }
        if flow == Flow::Close {
            return linger(reader, writer).await;
        }
        let filled = shutdown::fill_unless_stopped(&mut reader, stopped.as_mut()).await;
        if filled.transpose()?.unwrap_or(0) == 0 {
            // Stopped, or the client is gone.
            return Ok(());
        }
    }
}

/// Shuts the writing side down once the responses are sent, then reads and drops what the
/// client still sends, for at most [`LINGER`]: closing a socket with unread bytes makes the
/// kernel send a reset, which may destroy the response before the client reads it.
async fn linger(mut reader: StreamReader, writer: &StreamWriter) -> io::Result<()> {
    writer.write_eof()?;
    let _ = ringloop::timeout(LINGER, async {
        while reader.fill().await.unwrap_or(0) > 0 {
            reader.consume(usize::MAX);
        }
    })
    .await;
    Ok(())
}
