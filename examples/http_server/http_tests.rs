//! Request heads and chunked bodies: what is accepted, what is refused, and input split at
//! every byte boundary.

use super::*;

fn parse(input: &str) -> Result<Option<Head>, Error> {
    HeadParser::new(Limits::DEFAULT).parse(input.as_bytes())
}

fn head(input: &str) -> Head {
    parse(input)
        .expect("a valid head")
        .expect("a complete head")
}

#[test]
fn heads_parse() {
    let get = head("GET / HTTP/1.1\r\nHost: x\r\n\r\nextra");
    assert_eq!(
        get,
        Head {
            len: 27,
            method: Method::Get,
            echo: false,
            http10: false,
            keep_alive: true,
            body: Body::Length(0),
            expect_continue: false,
        }
    );
    let post =
        head("\r\nPOST /echo?x=1 HTTP/1.1\r\ncontent-LENGTH:  5 \r\nExpect: 100-continue\r\n\r\n");
    assert_eq!(
        (post.method, post.echo, post.body, post.expect_continue),
        (Method::Post, true, Body::Length(5), true)
    );
    assert_eq!(
        head("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n").body,
        Body::Chunked
    );
    assert_eq!(head("PUT /echo/x HTTP/1.1\r\n\r\n").method, Method::Other);
    assert!(!head("PUT /echo/x HTTP/1.1\r\n\r\n").echo);
}

#[test]
fn keep_alive_follows_the_version_and_connection() {
    let cases = [
        ("GET / HTTP/1.1\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
        (
            "GET / HTTP/1.1\r\nConnection: Upgrade, Close\r\n\r\n",
            false,
        ),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        (
            "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
            false,
        ),
    ];
    for (input, keep_alive) in cases {
        assert_eq!(head(input).keep_alive, keep_alive, "{input:?}");
    }
}

#[test]
fn malformed_heads_are_refused() {
    let cases = [
        ("GET /\r\n\r\n", Error::BadRequest),
        ("GET  / HTTP/1.1\r\n\r\n", Error::BadRequest),
        ("GET / HTTP/1.1 \r\n\r\n", Error::BadRequest),
        ("GET / http/1.1\r\n\r\n", Error::BadRequest),
        ("G@T / HTTP/1.1\r\n\r\n", Error::BadRequest),
        ("GET /\x01 HTTP/1.1\r\n\r\n", Error::BadRequest),
        ("GET / HTTP/1.1\nHost: x\r\n\r\n", Error::BadRequest),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", Error::BadRequest),
        (
            "GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
            Error::BadRequest,
        ),
        ("GET / HTTP/1.1\r\nNo colon\r\n\r\n", Error::BadRequest),
        ("GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", Error::BadRequest),
        ("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", Error::BadRequest),
        (
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            Error::BadRequest,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",
            Error::BadRequest,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            Error::BadRequest,
        ),
        (
            "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            Error::BadRequest,
        ),
        (
            "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
            Error::BadRequest,
        ),
        (
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            Error::NotImplemented,
        ),
        ("GET / HTTP/2.0\r\n\r\n", Error::VersionNotSupported),
        (
            "POST / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n",
            Error::BodyTooLarge,
        ),
    ];
    for (input, error) in cases {
        assert_eq!(parse(input), Err(error), "{input:?}");
    }
    // The same value twice is one length.
    assert_eq!(
        head("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n").body,
        Body::Length(3)
    );
}

#[test]
fn the_head_size_is_limited() {
    let filler = |n: usize| format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(n));
    let fits = filler(8 * 1024 - 23);
    assert_eq!(fits.len(), 8 * 1024);
    assert!(parse(&fits).unwrap().is_some());
    assert_eq!(parse(&filler(8 * 1024 - 22)), Err(Error::HeadTooLarge));
    // Refused as soon as 8 KiB arrived without an end, not after.
    let unfinished = format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(8 * 1024));
    assert_eq!(parse(&unfinished[..8 * 1024 - 1]), Ok(None));
    assert_eq!(parse(&unfinished[..8 * 1024]), Err(Error::HeadTooLarge));
}

#[test]
fn a_head_split_at_every_byte_boundary_parses_the_same() {
    let input = b"\r\nPOST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc";
    let whole = HeadParser::new(Limits::DEFAULT)
        .parse(input)
        .unwrap()
        .unwrap();
    for at in 0..input.len() {
        let mut parser = HeadParser::new(Limits::DEFAULT);
        let early = parser.parse(&input[..at]).unwrap();
        if at < whole.len {
            assert_eq!(early, None, "split at {at}");
        }
        assert_eq!(parser.parse(input).unwrap(), Some(whole), "split at {at}");
    }
}

/// Decodes `chunks` in turn as a connection would (unused bytes stay for the next call).
fn decode_chunks<'a>(
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> Result<(Vec<u8>, bool, Vec<u8>), Error> {
    let mut decoder = ChunkedDecoder::new(Limits::DEFAULT);
    let (mut pending, mut body, mut done) = (Vec::new(), Vec::new(), false);
    for chunk in chunks {
        pending.extend_from_slice(chunk);
        if !done {
            let (used, finished) = decoder.decode(&pending, Some(&mut body))?;
            pending.drain(..used);
            done = finished;
        }
    }
    Ok((body, done, pending))
}

const CHUNKED: &[u8] =
    b"5;name=value\r\nhello\r\n7 \r\n, world\r\n001\r\n!\r\n0\r\nTrailer: yes\r\n\r\nNEXT";

#[test]
fn chunked_bodies_decode() {
    assert_eq!(
        decode_chunks([CHUNKED]),
        Ok((b"hello, world!".to_vec(), true, b"NEXT".to_vec()))
    );
    let empty = decode_chunks([&b"0\r\n\r\n"[..]]);
    assert_eq!(empty, Ok((Vec::new(), true, Vec::new())));
}

#[test]
fn chunked_bodies_split_at_every_byte_boundary_decode_the_same() {
    let expected = Ok((b"hello, world!".to_vec(), true, b"NEXT".to_vec()));
    for at in 0..=CHUNKED.len() {
        let (head, tail) = CHUNKED.split_at(at);
        assert_eq!(decode_chunks([head, tail]), expected, "split at {at}");
    }
    assert_eq!(decode_chunks(CHUNKED.chunks(1)), expected);
}

#[test]
fn malformed_and_oversize_chunked_bodies_are_refused() {
    let cases: [(&[u8], Error); 5] = [
        (b"x\r\n", Error::BadRequest),
        (b"5 x\r\nhello\r\n", Error::BadRequest),
        (b"5\r\nhelloXX", Error::BadRequest),
        (b"11111111111111111\r\n", Error::BadRequest),
        (b"100001\r\n", Error::BodyTooLarge),
    ];
    for (input, error) in cases {
        assert_eq!(decode_chunks([input]).map(|_| ()), Err(error), "{input:?}");
    }
    // Two chunks of 512 KiB are 1 MiB, the limit; one byte more is not.
    let half = [&b"80000\r\n"[..], &[7u8; 0x80000], b"\r\n"].concat();
    let full = [&half[..], &half, b"0\r\n\r\n"].concat();
    assert_eq!(
        decode_chunks([&full[..]]).map(|(body, done, _)| (body.len(), done)),
        Ok((1 << 20, true))
    );
    let over = [&half[..], &half, b"1\r\n"].concat();
    assert_eq!(
        decode_chunks([&over[..]]).map(|_| ()),
        Err(Error::BodyTooLarge)
    );
    let long_line = [&b"1;"[..], &[b'a'; 2000]].concat();
    assert_eq!(
        decode_chunks([&long_line[..]]).map(|_| ()),
        Err(Error::BadRequest)
    );
    let long_trailer = [&b"0\r\nX: "[..], &[b'a'; 9000]].concat();
    assert_eq!(
        decode_chunks([&long_trailer[..]]).map(|_| ()),
        Err(Error::HeadTooLarge)
    );
}
