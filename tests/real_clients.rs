//! The server examples driven by real clients: `mini_redis` by `redis-cli` and
//! `redis-benchmark`, `http_server` by `curl` and `wrk`, each on both runtime flavours; then
//! SIGTERM, with a connection still open, must make the server exit 0 well within its grace
//! period. Raw-socket checks of pipelining and protocol errors run even without the clients.
//!
//! A missing client skips its part, printing `skipped: <client> not installed (apt-get
//! install <package>)`; with `RINGLOOP_REQUIRE_CLIENTS=1` it fails the test instead. How the
//! server binaries are found (and built when stale): `real_clients/process.rs`.

#[path = "real_clients/process.rs"]
mod process;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use process::{client, run, Flavor, Server};

/// How long one client run may take.
const CLIENT_LIMIT: Duration = Duration::from_secs(120);

#[test]
fn mini_redis_multi() {
    mini_redis(Flavor::Multi);
}

#[test]
fn mini_redis_single() {
    mini_redis(Flavor::Single);
}

#[test]
fn http_server_multi() {
    http_server(Flavor::Multi);
}

#[test]
fn http_server_single() {
    http_server(Flavor::Single);
}

fn mini_redis(flavor: Flavor) {
    let server = Server::start("mini_redis", flavor);
    check_banner(&server, flavor);
    redis_raw(&server);
    redis_cli(&server);
    redis_benchmark(&server);
    stop_with_a_connection_open(server);
}

fn http_server(flavor: Flavor) {
    let server = Server::start("http_server", flavor);
    check_banner(&server, flavor);
    http_raw(&server);
    curl(&server);
    wrk(&server);
    stop_with_a_connection_open(server);
}

fn check_banner(server: &Server, flavor: Flavor) {
    let expected = match flavor {
        Flavor::Multi => "(multi, 2 workers)",
        Flavor::Single => "(single, 1 workers)",
    };
    assert!(server.banner.ends_with(expected), "{:?}", server.banner);
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.addr).expect("connecting to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream
}

/// Sends `request` in one write and reads `expected.len()` bytes back; with `then_eof`, the
/// server must then close the connection.
fn exchange(server: &Server, request: &[u8], expected: &[u8], then_eof: bool) {
    let mut stream = connect(server);
    stream.write_all(request).unwrap();
    let mut reply = vec![0; expected.len()];
    stream
        .read_exact(&mut reply)
        .unwrap_or_else(|e| panic!("{e}; read so far: {:?}", String::from_utf8_lossy(&reply)));
    assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(expected)
    );
    if then_eof {
        let mut rest = Vec::new();
        stream
            .read_to_end(&mut rest)
            .expect("the server closes the connection");
        assert_eq!(
            String::from_utf8_lossy(&rest),
            "",
            "bytes after the last reply"
        );
    }
}

/// Pipelined RESP and inline commands in one write, and protocol errors, which close.
fn redis_raw(server: &Server) {
    exchange(
        server,
        b"PING\r\n*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$3\r\nraw\r\n$1\r\n5\r\nINCR raw\r\nGET\r\nFOO a\r\n",
        b"+PONG\r\n+PONG\r\n+OK\r\n:6\r\n-ERR wrong number of arguments for 'get' command\r\n\
          -ERR unknown command 'FOO', with args beginning with: 'a' \r\n",
        false,
    );
    let invalid_bulk = b"+PONG\r\n-ERR Protocol error: invalid bulk length\r\n";
    exchange(server, b"PING\r\n*1\r\n$-5\r\nPING\r\n", invalid_bulk, true);
    let oversize_bulk = b"-ERR Protocol error: invalid bulk length\r\n";
    exchange(server, b"*1\r\n$536870913\r\n", oversize_bulk, true);
    let oversize_array = b"-ERR Protocol error: invalid multibulk length\r\n";
    exchange(server, b"*1048577\r\n", oversize_array, true);
}

fn redis_cli(server: &Server) {
    let Some(cli) = client("redis-cli", "redis-tools") else {
        return;
    };
    let port = server.port();
    let cli_run = |args: &[&str], stdin: &[u8]| {
        let output = run(
            Command::new(&cli).args(["-p", &port]).args(args),
            stdin,
            CLIENT_LIMIT,
        );
        assert!(output.status.success(), "redis-cli {args:?}: {output:?}");
        String::from_utf8(output.stdout).expect("UTF-8 output")
    };
    assert_eq!(cli_run(&["SET", "greeting", "hello world"], b""), "OK\n");
    assert_eq!(cli_run(&["GET", "greeting"], b""), "hello world\n");
    let no_args = cli_run(&["GET"], b"");
    assert!(
        no_args.starts_with("ERR wrong number of arguments for 'get' command\n"),
        "{no_args:?}"
    );
    let unknown = cli_run(&["FOO", "bar"], b"");
    assert!(
        unknown.starts_with("ERR unknown command 'FOO', with args beginning with: 'bar' \n"),
        "{unknown:?}"
    );
    // Commands read from standard input, one round trip each.
    assert_eq!(
        cli_run(&[], b"SET counter 1\nINCR counter\nINCRBY counter 40\n"),
        "OK\n2\n42\n"
    );

    // `--pipe` sends all of its input at once: 2001 pipelined commands, RESP and inline.
    let mut input = Vec::new();
    for i in 0..1000 {
        let (key, value) = (format!("pipe:{i}"), i.to_string());
        write!(
            input,
            "*3\r\n$3\r\nSET\r\n${}\r\n{key}\r\n${}\r\n{value}\r\n",
            key.len(),
            value.len()
        )
        .unwrap();
        input.extend_from_slice(b"INCR piped\r\n");
    }
    input.extend_from_slice(b"PING\r\n");
    let piped = cli_run(&["--pipe"], &input);
    assert!(piped.contains("errors: 0, replies: 2001"), "{piped:?}");
    assert_eq!(cli_run(&["GET", "piped"], b""), "1000\n");
    assert_eq!(
        cli_run(&["MGET", "pipe:0", "pipe:999", "nope"], b""),
        "0\n999\n\n"
    );
}

fn redis_benchmark(server: &Server) {
    let Some(benchmark) = client("redis-benchmark", "redis-tools") else {
        return;
    };
    let args = [
        "-p",
        &server.port(),
        "-t",
        "ping,set,get",
        "-n",
        "10000",
        "-q",
    ];
    let output = run(Command::new(benchmark).args(args), b"", CLIENT_LIMIT);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    assert!(output.status.success(), "redis-benchmark: {output:?}");
    assert!(
        !format!("{stdout}{stderr}").contains("WARN"),
        "{stdout}{stderr}"
    );
    // The progress lines end with a CR; the results are `NAME: N requests per second, ...`.
    let results: Vec<(&str, f64)> = stdout
        .split(['\r', '\n'])
        .filter_map(|line| {
            let (name, rest) = line.trim().split_once(": ")?;
            let rate = rest
                .strip_suffix(" requests per second")
                .or_else(|| rest.split(" requests per second,").next())?;
            Some((name, rate.parse().ok()?))
        })
        .collect();
    for test in ["PING_INLINE", "PING_MBULK", "SET", "GET"] {
        let rate = results
            .iter()
            .find(|(name, _)| *name == test)
            .map(|(_, rate)| *rate);
        assert!(
            rate.is_some_and(|r| r > 0.0),
            "no {test} figure in {stdout:?}"
        );
        println!(
            "redis-benchmark {test}: {:.0} requests per second",
            rate.unwrap()
        );
    }
}

/// Pipelined requests in one write, and refused ones, which close.
fn http_raw(server: &Server) {
    exchange(
        server,
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 4\r\n\r\nping",
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!\
          HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4\r\n\r\nping",
        false,
    );
    let refused = |status: &str| {
        let reason = &status[4..];
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reason}\n",
            reason.len() + 1
        )
    };
    exchange(
        server,
        b"BROKEN\r\n\r\n",
        refused("400 Bad Request").as_bytes(),
        true,
    );
    let big_head = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000));
    exchange(
        server,
        big_head.as_bytes(),
        refused("431 Request Header Fields Too Large").as_bytes(),
        true,
    );
}

fn curl(server: &Server) {
    let Some(curl) = client("curl", "curl") else {
        return;
    };
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let curl_run = |args: &[&str], stdin: &[u8]| {
        let output = run(Command::new(&curl).args(args), stdin, CLIENT_LIMIT);
        assert!(output.status.success(), "curl {args:?}: {output:?}");
        output
    };
    // Two URLs, one connection.
    let output = curl_run(&["-sv", &url("/"), &url("/again")], b"");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "Hello, World!Hello, World!"
    );
    let verbose = String::from_utf8_lossy(&output.stderr);
    assert!(
        verbose.contains("Re-using existing connection"),
        "{verbose}"
    );
    let output = curl_run(&["-s", "-0", &url("/old")], b"");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Hello, World!");

    // Bodies: every byte value, 200 KB, with a `Content-Length`, then chunked.
    let body: Vec<u8> = (0..200_000u32).map(|i| (i * 7 + i / 256) as u8).collect();
    let output = curl_run(&["-s", "--data-binary", "@-", &url("/echo")], &body);
    assert!(
        output.stdout == body,
        "the echo differs ({} bytes back)",
        output.stdout.len()
    );
    let chunked = [
        "-s",
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        "@-",
        &url("/echo"),
    ];
    let output = curl_run(&chunked, &body);
    assert!(
        output.stdout == body,
        "the chunked echo differs ({} bytes back)",
        output.stdout.len()
    );
    // Over the 1 MiB limit.
    let big = vec![b'x'; 2 << 20];
    let output = curl_run(
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--data-binary",
            "@-",
            &url("/echo"),
        ],
        &big,
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), "413");
}

fn wrk(server: &Server) {
    let Some(wrk) = client("wrk", "wrk") else {
        return;
    };
    let url = format!("http://{}/", server.addr);
    let output = run(
        Command::new(wrk).args(["-t1", "-c10", "-d1s", &url]),
        b"",
        CLIENT_LIMIT,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "wrk: {output:?}");
    let requests: u64 = stdout
        .lines()
        .find_map(|line| line.trim().split_once(" requests in ")?.0.parse().ok())
        .unwrap_or_else(|| panic!("no request count in {stdout:?}"));
    assert!(requests > 0, "{stdout}");
    assert!(!stdout.contains("Socket errors"), "{stdout}");
    assert!(!stdout.contains("Non-2xx"), "{stdout}");
    println!("wrk: {requests} requests in 1 s");
}

/// SIGTERM with an idle connection open: the server closes it and exits 0, well before the
/// 5 s grace period would end.
fn stop_with_a_connection_open(server: Server) {
    let mut idle = connect(&server);
    // Accepted (and so counted) before the signal: it answers.
    idle.write_all(if server.banner.starts_with("mini_redis") {
        b"PING\r\n"
    } else {
        b"GET / HTTP/1.1\r\n\r\n"
    })
    .unwrap();
    let mut first = [0; 1];
    idle.read_exact(&mut first).unwrap();
    let (status, took) = server.terminate(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(
        took < Duration::from_secs(4),
        "exiting took {took:?}: the open connection was not told to stop"
    );
    let mut rest = Vec::new();
    let _ = idle.read_to_end(&mut rest);
}
