//! The request state machine: pipelined requests answered in order, whatever the split of
//! the input; refusals close.

use super::*;

/// Feeds `chunks` in turn as the I/O loop would; returns the responses and whether the
/// connection was to be closed.
fn feed<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> (String, Flow) {
    let mut connection = Connection::new(Limits::DEFAULT);
    let (mut pending, mut out) = (Vec::new(), Vec::new());
    for chunk in chunks {
        pending.extend_from_slice(chunk);
        let (used, flow) = connection.process(&pending, &mut out);
        pending.drain(..used);
        if flow == Flow::Close {
            return (String::from_utf8(out).unwrap(), Flow::Close);
        }
    }
    (String::from_utf8(out).unwrap(), Flow::Continue)
}

fn hello(connection: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n{connection}\r\n\
         Hello, World!"
    )
}

fn echoed(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

const PIPELINE: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\
    POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello\
    POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n\
    HEAD /x HTTP/1.1\r\n\r\n\
    POST /other HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz\
    GET /last HTTP/1.0\r\n\r\n\
    GET /never HTTP/1.1\r\n\r\n";

fn pipeline_responses() -> String {
    let head_only = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\n";
    [
        hello(""),
        echoed("hello"),
        echoed("abcde"),
        head_only.into(),
        hello(""),
        hello("Connection: close\r\n"),
    ]
    .concat()
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    assert_eq!(feed([PIPELINE]), (pipeline_responses(), Flow::Close));
}

#[test]
fn a_pipeline_split_at_every_byte_boundary_is_answered_the_same() {
    for at in 0..=PIPELINE.len() {
        let (head, tail) = PIPELINE.split_at(at);
        assert_eq!(
            feed([head, tail]),
            (pipeline_responses(), Flow::Close),
            "split at {at}"
        );
    }
    assert_eq!(
        feed(PIPELINE.chunks(1)),
        (pipeline_responses(), Flow::Close)
    );
}

#[test]
fn keep_alive_for_http10_is_announced() {
    let (out, flow) = feed([&b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"[..]]);
    assert_eq!(
        (out, flow),
        (hello("Connection: keep-alive\r\n"), Flow::Continue)
    );
}

#[test]
fn a_client_expecting_100_continue_gets_it_before_its_body() {
    let head = &b"POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"[..];
    let (out, _) = feed([head]);
    assert_eq!(out, "HTTP/1.1 100 Continue\r\n\r\n");
    let (out, _) = feed([head, b"hi"]);
    assert_eq!(
        out,
        format!("HTTP/1.1 100 Continue\r\n\r\n{}", echoed("hi"))
    );
    // Body already here: no interim response.
    let (out, _) = feed([&[head, b"hi"].concat()[..]]);
    assert_eq!(out, echoed("hi"));
}

#[test]
fn echo_wants_post() {
    let (out, flow) = feed([&b"GET /echo HTTP/1.1\r\n\r\n"[..]]);
    assert!(
        out.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{out}"
    );
    assert!(out.contains("Allow: POST\r\n"));
    assert_eq!(flow, Flow::Continue);
}

#[test]
fn refused_requests_close_after_their_status() {
    let big_head = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000));
    let cases: [(&[u8], &str); 5] = [
        (b"BAD\r\n\r\n", "400 Bad Request"),
        (big_head.as_bytes(), "431 Request Header Fields Too Large"),
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n",
            "413 Content Too Large",
        ),
        (
            b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "400 Bad Request",
        ),
        (b"GET / HTTP/3.0\r\n\r\n", "505 HTTP Version Not Supported"),
    ];
    for (input, status) in cases {
        let (out, flow) = feed([&b"GET / HTTP/1.1\r\n\r\n"[..], input]);
        let expected = format!(
            "{}HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}\n",
            hello(""),
            status.len() - 3,
            &status[4..]
        );
        assert_eq!((out, flow), (expected, Flow::Close), "{status}");
    }
}
