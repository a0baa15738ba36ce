//! One connection's requests, runtime-independent: [`Connection::process`] takes the bytes
//! received so far and appends the responses to every complete request among them, in
//! order; the server's I/O loop feeds it and sends what it wrote.
//!
//! `POST /echo` answers the request's body; any other path answers `Hello, World!` (`HEAD`:
//! its headers only); `/echo` with another method is 405. A refused request (see
//! [`Error`]) gets its status and the connection closes.

use std::io::Write;

use crate::http::{Body, ChunkedDecoder, Error, Head, HeadParser, Limits, Method};

/// What the I/O loop does once the responses are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Close,
}

#[derive(Debug)]
enum State {
    /// Waiting for a request head.
    Head,
    /// Reading a `Content-Length` body that was not all there with its head.
    Body {
        head: Head,
        left: usize,
    },
    Chunked {
        head: Head,
        decoder: ChunkedDecoder,
    },
}

/// A connection's request state; see the module docs.
#[derive(Debug)]
pub(crate) struct Connection {
    limits: Limits,
    heads: HeadParser,
    state: State,
    /// The body of an `/echo` request that arrived in pieces.
    body: Vec<u8>,
}

const HELLO: &[u8] = b"Hello, World!";

/// The interim response to `Expect: 100-continue`.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

impl Connection {
    pub(crate) fn new(limits: Limits) -> Connection {
        Connection {
            limits,
            heads: HeadParser::new(limits),
            state: State::Head,
            body: Vec::new(),
        }
    }

    /// Handles every complete request at the start of `input`, appending the responses to
    /// `out`; returns the bytes used (the caller drops them and calls again with what is left
    /// and what arrives next), and whether to close once `out` is sent.
    pub(crate) fn process(&mut self, input: &[u8], out: &mut Vec<u8>) -> (usize, Flow) {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            let head = match &mut self.state {
                State::Head => match self.heads.parse(rest) {
                    Ok(None) => return (used, Flow::Continue),
                    Err(e) => return (used, refuse(e, out)),
                    Ok(Some(head)) => {
                        used += head.len;
                        let rest = &input[used..];
                        match head.body {
                            // The whole body is here: answer from the input, without a copy.
                            Body::Length(n) if rest.len() >= n => {
                                used += n;
                                respond(&head, &rest[..n], out);
                                if !head.keep_alive {
                                    return (used, Flow::Close);
                                }
                                continue;
                            }
                            Body::Length(left) => self.state = State::Body { head, left },
                            Body::Chunked => {
                                let decoder = ChunkedDecoder::new(self.limits);
                                self.state = State::Chunked { head, decoder };
                            }
                        }
                        if head.expect_continue {
                            out.extend_from_slice(CONTINUE);
                        }
                        self.body.clear();
                        continue;
                    }
                },
                State::Body { head, left } => {
                    let take = (*left).min(rest.len());
                    if head.echo {
                        self.body.extend_from_slice(&rest[..take]);
                    }
                    used += take;
                    *left -= take;
                    if *left > 0 {
                        return (used, Flow::Continue);
                    }
                    *head
                }
                State::Chunked { head, decoder } => {
                    let keep = head.echo.then_some(&mut self.body);
                    match decoder.decode(rest, keep) {
                        Err(e) => return (used, refuse(e, out)),
                        Ok((n, done)) => {
                            used += n;
                            if !done {
                                return (used, Flow::Continue);
                            }
                        }
                    }
                    *head
                }
            };
            // A body completed.
            self.state = State::Head;
            respond(&head, &self.body, out);
            if self.body.capacity() > 64 * 1024 {
                self.body = Vec::new();
            }
            if !head.keep_alive {
                return (used, Flow::Close);
            }
        }
    }
}

/// Appends the response to the request `head` with body `body`.
fn respond(head: &Head, body: &[u8], out: &mut Vec<u8>) {
    let send_body = head.method != Method::Head;
    if !head.echo {
        response(out, head, (200, "OK"), "text/plain", "", HELLO, send_body);
    } else if head.method == Method::Post {
        response(
            out,
            head,
            (200, "OK"),
            "application/octet-stream",
            "",
            body,
            true,
        );
    } else {
        let allow = "Allow: POST\r\n";
        let status = (405, "Method Not Allowed");
        response(
            out,
            head,
            status,
            "text/plain",
            allow,
            b"Method Not Allowed\n",
            send_body,
        );
    }
}

/// Appends the response a refused request gets; the connection closes after it.
fn refuse(error: Error, out: &mut Vec<u8>) -> Flow {
    let (code, reason) = error.status();
    let _ = write!(
        out,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{reason}\n",
        reason.len() + 1
    );
    Flow::Close
}

/// Appends a response: status line, headers (`extra` is more header lines), body.
fn response(
    out: &mut Vec<u8>,
    head: &Head,
    (code, reason): (u16, &str),
    content_type: &str,
    extra: &str,
    body: &[u8],
    send_body: bool,
) {
    let connection = match (head.keep_alive, head.http10) {
        (false, _) => "Connection: close\r\n",
        (true, true) => "Connection: keep-alive\r\n",
        (true, false) => "",
    };
    // Writing to a `Vec` cannot fail.
    let _ = write!(
        out,
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         {connection}{extra}\r\n",
        body.len()
    );
    if send_body {
        out.extend_from_slice(body);
    }
}

#[cfg(test)]
#[path = "conn_tests.rs"]
mod tests;
