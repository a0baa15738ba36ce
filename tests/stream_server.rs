//! `start_server`, `open_connection` and `Server` on every flavour: many clients at once over
//! TCP and Unix sockets, a handler that panics or fails (its connection closes, the server
//! goes on), `close` (no new connections, the open ones go on), `wait_closed`,
//! `serve_forever`, the options, and resolution errors.

#[macro_use]
mod support;

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ringloop::streams::{ServerConfig, StreamReader, StreamWriter};
use ringloop::{create_task, gather, open_connection, sleep, start_server, timeout};
use support::Flavor;

fn run(flavor: Flavor, test: impl std::future::Future<Output = ()> + Send + 'static) {
    let rt = flavor.runtime();
    rt.block_on(async move { create_task(test).await.expect("the test task") });
}

/// Echoes lines in upper case; `panic` panics, `fail` returns an error, `quit` returns.
async fn shout(mut reader: StreamReader, writer: StreamWriter) -> io::Result<()> {
    while let Some(line) = reader.next_line().await {
        let line = line?;
        match &line[..] {
            b"panic\n" => panic!("the client asked for it"),
            b"fail\n" => return Err(io::Error::other("the client asked for an error")),
            b"reset\n" => return Err(io::Error::from(io::ErrorKind::ConnectionReset)),
            b"quit\n" => return Ok(()),
            _ => {}
        }
        writer.write(&line.to_ascii_uppercase())?;
        writer.drain().await?;
    }
    Ok(())
}

fn port(server: &ringloop::streams::Server) -> u16 {
    server.local_addr().unwrap().as_inet().unwrap().port()
}

async fn ask(reader: &mut StreamReader, writer: &StreamWriter, line: &str) -> Vec<u8> {
    writer.write(line.as_bytes()).unwrap();
    reader.readline().await.unwrap()
}

rt_test! {
    fn many_clients_at_once_over_tcp(flavor: Flavor) {
        run(flavor, async {
            let server = start_server(shout, "127.0.0.1", 0).await.unwrap();
            assert!(server.is_serving());
            let port = port(&server);
            let clients = (0..24).map(|c| create_task(async move {
                let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
                for i in 0..20 {
                    let reply = ask(&mut reader, &writer, &format!("client {c} line {i}\n")).await;
                    assert_eq!(reply, format!("CLIENT {c} LINE {i}\n").into_bytes());
                }
            }));
            for done in gather(clients).await {
                done.unwrap();
            }
            server.close();
            timeout(Duration::from_secs(10), server.wait_closed()).await.unwrap();
            assert!(!server.is_serving());
        });
    }

    fn unix_server_and_connection(flavor: Flavor) {
        run(flavor, async {
            let dir = std::env::temp_dir().join(format!(
                "ringloop-stream-server-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("sock");
            let _ = std::fs::remove_file(&path);
            let server = ringloop::start_unix_server(shout, &path).await.unwrap();
            let (mut reader, writer) = ringloop::open_unix_connection(&path).await.unwrap();
            assert_eq!(ask(&mut reader, &writer, "over unix\n").await, b"OVER UNIX\n");
            drop((reader, writer));
            server.close();
            assert!(!path.exists(), "close removes the socket file");
            timeout(Duration::from_secs(10), server.wait_closed()).await.unwrap();
            let _ = std::fs::remove_dir_all(&dir);
        });
    }

    fn a_panicking_or_failing_handler_closes_its_connection_only(flavor: Flavor) {
        run(flavor, async {
            let server = start_server(shout, "127.0.0.1", 0).await.unwrap();
            let port = port(&server);
            let (mut steady_r, steady_w) = open_connection("127.0.0.1", port).await.unwrap();
            assert_eq!(ask(&mut steady_r, &steady_w, "before\n").await, b"BEFORE\n");
            for doom in ["panic\n", "fail\n"] {
                let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
                writer.write(doom.as_bytes()).unwrap();
                assert!(
                    reader.read_to_end().await.unwrap().is_empty(),
                    "the connection whose handler ended is closed"
                );
            }
            // The server and the other connection go on.
            assert_eq!(ask(&mut steady_r, &steady_w, "after\n").await, b"AFTER\n");
            let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
            assert_eq!(ask(&mut reader, &writer, "new\n").await, b"NEW\n");
            server.close();
        });
    }

    fn close_stops_accepting_and_wait_closed_waits_for_handlers(flavor: Flavor) {
        run(flavor, async {
            let server = start_server(shout, "127.0.0.1", 0).await.unwrap();
            let port = port(&server);
            let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
            assert_eq!(ask(&mut reader, &writer, "one\n").await, b"ONE\n");
            server.close();
            server.close();
            assert!(!server.is_serving());
            // The listening socket goes when its accept loop is cancelled: soon.
            let mut refused = false;
            for _ in 0..200 {
                match open_connection("127.0.0.1", port).await {
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                        refused = true;
                        break;
                    }
                    Err(e) => panic!("unexpected error {e}"),
                    Ok(_) => sleep(Duration::from_millis(10)).await.unwrap(),
                }
            }
            assert!(refused, "the server still accepts after close");
            // The open connection still works, and holds wait_closed.
            assert_eq!(ask(&mut reader, &writer, "two\n").await, b"TWO\n");
            assert!(timeout(Duration::from_millis(50), server.wait_closed()).await.is_err());
            writer.write(b"quit\n").unwrap();
            timeout(Duration::from_secs(10), server.wait_closed()).await.unwrap();
        });
    }

    fn serve_forever_returns_on_close_and_closes_when_cancelled(flavor: Flavor) {
        run(flavor, async {
            let server = start_server(shout, "127.0.0.1", 0).await.unwrap();
            let closer = {
                let server = server.clone();
                create_task(async move {
                    sleep(Duration::from_millis(20)).await.unwrap();
                    server.close();
                })
            };
            timeout(Duration::from_secs(10), server.serve_forever()).await.unwrap();
            closer.await.unwrap();

            let server = start_server(shout, "127.0.0.1", 0).await.unwrap();
            assert!(timeout(Duration::from_millis(20), server.serve_forever()).await.is_err());
            assert!(!server.is_serving(), "a cancelled serve_forever closes the server");
        });
    }

    fn options_reuse_port_backlog_and_limit(flavor: Flavor) {
        run(flavor, async {
            let config = ServerConfig::new().reuse_port(true).backlog(16).limit(8);
            let first = config.start(shout, "127.0.0.1", 0).await.unwrap();
            let port = port(&first);
            let second = config.start(shout, "127.0.0.1", port).await.unwrap();
            let refused = ServerConfig::new().start(shout, "127.0.0.1", port).await.unwrap_err();
            assert_eq!(refused.kind(), io::ErrorKind::AddrInUse);
            // The handlers' readers have a limit of 8: a longer line ends the handler with an
            // error, which closes the connection.
            let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
            assert_eq!(ask(&mut reader, &writer, "short\n").await, b"SHORT\n");
            writer.write(b"far too long a line\n").unwrap();
            assert!(reader.read_to_end().await.unwrap().is_empty());
            first.close();
            second.close();
        });
    }

    fn names_resolve_and_errors_say_why(flavor: Flavor) {
        run(flavor, async {
            let count = Arc::new(AtomicUsize::new(0));
            let handler = {
                let count = Arc::clone(&count);
                move |reader: StreamReader, writer: StreamWriter| {
                    count.fetch_add(1, Ordering::SeqCst);
                    shout(reader, writer)
                }
            };
            // `localhost` may be one address or two (IPv4 and IPv6): the server listens on all.
            let server = start_server(handler, "localhost", 0).await.unwrap();
            assert!(!server.sockets().is_empty());
            let port = port(&server);
            let (mut reader, writer) = open_connection("localhost", port).await.unwrap();
            assert_eq!(ask(&mut reader, &writer, "hi\n").await, b"HI\n");
            assert_eq!(count.load(Ordering::SeqCst), 1);
            server.close();

            let unknown = open_connection("no-such-host.invalid", 80).await.unwrap_err();
            assert!(!unknown.to_string().is_empty());
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let free = listener.local_addr().unwrap().port();
            drop(listener);
            let refused = open_connection("127.0.0.1", free).await.unwrap_err();
            assert_eq!(refused.kind(), io::ErrorKind::ConnectionRefused);
        });
    }
}

/// A handler's panic and error are reported (to stderr when no logger is installed), with
/// the peer's address: the scenario runs in a child process whose stderr is read.
#[test]
fn handler_panics_and_errors_are_reported_with_the_peer() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "scenario_handler_reports",
            "--ignored",
            "--nocapture",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed: {stderr}");
    for expected in [
        "ringloop ERROR: the handler of the connection from 127.0.0.1:",
        "panicked: the client asked for it; the connection was closed, the server goes on",
        "failed: the client asked for an error",
    ] {
        assert!(
            stderr.contains(expected),
            "no {expected:?} on stderr: {stderr}"
        );
    }
}

/// Run by [`handler_panics_and_errors_are_reported_with_the_peer`] in a child process.
#[test]
#[ignore = "run in a child process by handler_panics_and_errors_are_reported_with_the_peer"]
fn scenario_handler_reports() {
    run(Flavor::MultiThread { workers: 2 }, async {
        let server = start_server(shout, "127.0.0.1", 0).await.unwrap();
        let port = port(&server);
        for doom in ["panic\n", "fail\n", "reset\n"] {
            let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
            writer.write(doom.as_bytes()).unwrap();
            assert!(reader.read_to_end().await.unwrap().is_empty());
        }
        server.close();
        server.wait_closed().await;
    });
}
