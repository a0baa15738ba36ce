//! HTTP/1.1 request parsing: the request head ([`HeadParser`]) and chunked bodies
//! ([`ChunkedDecoder`]), on plain bytes, runtime-independent. Strict where leniency lets
//! requests be read two ways (request smuggling): lines end with CRLF, no obsolete line
//! folding, no whitespace before a header's colon, one `Content-Length` value, not both it and
//! `Transfer-Encoding`, and `chunked` as the only transfer coding.

/// The limits on what a client may send.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The request line and headers, CRLFs included (and a chunked body's trailers).
    pub(crate) max_head: usize,
    pub(crate) max_body: usize,
}

impl Limits {
    /// 8 KiB of head, 1 MiB of body.
    pub(crate) const DEFAULT: Limits = Limits {
        max_head: 8 * 1024,
        max_body: 1024 * 1024,
    };
}

/// A request the server refuses, with the status it answers (then it closes the connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Error {
    BadRequest,
    HeadTooLarge,
    BodyTooLarge,
    /// A transfer coding other than `chunked`.
    NotImplemented,
    VersionNotSupported,
}

impl Error {
    pub(crate) fn status(self) -> (u16, &'static str) {
        match self {
            Error::BadRequest => (400, "Bad Request"),
            Error::HeadTooLarge => (431, "Request Header Fields Too Large"),
            Error::BodyTooLarge => (413, "Content Too Large"),
            Error::NotImplemented => (501, "Not Implemented"),
            Error::VersionNotSupported => (505, "HTTP Version Not Supported"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Head,
    Post,
    Other,
}

/// How the body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    /// `Content-Length` (0 without one).
    Length(usize),
    Chunked,
}

/// What the server needs of a request head (nothing borrowed: the bytes are consumed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    /// The head's length, through its empty line.
    pub(crate) len: usize,
    pub(crate) method: Method,
    /// The target is `/echo` (with or without a query).
    pub(crate) echo: bool,
    pub(crate) http10: bool,
    /// Whether the connection stays open after the response.
    pub(crate) keep_alive: bool,
    pub(crate) body: Body,
    /// `Expect: 100-continue`: the client waits for a `100 Continue` before the body.
    pub(crate) expect_continue: bool,
}

/// Finds and parses request heads; remembers how far it searched for the end of one that has
/// not fully arrived, so that a head arriving byte by byte is searched once.
#[derive(Debug)]
pub(crate) struct HeadParser {
    limits: Limits,
    searched: usize,
}

impl HeadParser {
    pub(crate) fn new(limits: Limits) -> HeadParser {
        HeadParser {
            limits,
            searched: 0,
        }
    }

    /// Parses the head at the start of `input`: `Ok(None)` until it is complete. After
    /// `Ok(None)`, the next call must be given the same bytes and maybe more.
    pub(crate) fn parse(&mut self, input: &[u8]) -> Result<Option<Head>, Error> {
        let window = &input[..input.len().min(self.limits.max_head)];
        // Empty lines before a request line are ignored (RFC 9112, 2.2).
        let mut skip = 0;
        while window[skip..].starts_with(b"\r\n") {
            skip += 2;
        }
        let from = self.searched.max(skip);
        let Some(end) = find(&window[from..], b"\r\n\r\n").map(|at| from + at + 4) else {
            if window.len() == self.limits.max_head {
                return Err(Error::HeadTooLarge);
            }
            // The end may start in the last three bytes.
            self.searched = window.len().saturating_sub(3).max(skip);
            return Ok(None);
        };
        self.searched = 0;
        let mut head = parse_head(&input[skip..end - 2], self.limits)?;
        head.len = end;
        Ok(Some(head))
    }
}

/// Parses the request line and the header lines, each ending with CRLF.
fn parse_head(text: &[u8], limits: Limits) -> Result<Head, Error> {
    let mut lines = Lines(text);
    let request_line = lines.next().ok_or(Error::BadRequest)??;
    let mut parts = request_line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::BadRequest);
    };
    if method.is_empty() || !method.iter().all(|&b| is_tchar(b)) {
        return Err(Error::BadRequest);
    }
    if target.is_empty() || !target.iter().all(|&b| b.is_ascii_graphic()) {
        return Err(Error::BadRequest);
    }
    let http10 = match version {
        b"HTTP/1.1" => false,
        b"HTTP/1.0" => true,
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            return Err(Error::VersionNotSupported)
        }
        _ => return Err(Error::BadRequest),
    };
    let method = match method {
        b"GET" => Method::Get,
        b"HEAD" => Method::Head,
        b"POST" => Method::Post,
        _ => Method::Other,
    };
    let echo = target == b"/echo" || target.starts_with(b"/echo?");
    let (mut length, mut chunked, mut close, mut keep, mut expect_continue) =
        (None, false, false, false, false);
    for line in lines {
        let line = line?;
        let colon = line
            .iter()
            .position(|&b| b == b':')
            .ok_or(Error::BadRequest)?;
        let (name, value) = (&line[..colon], trim(&line[colon + 1..]));
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return Err(Error::BadRequest); // also whitespace before the colon, folded lines
        }
        if !value
            .iter()
            .all(|&b| b == b'\t' || (b >= b' ' && b != 0x7f))
        {
            return Err(Error::BadRequest);
        }
        if name.eq_ignore_ascii_case(b"content-length") {
            let n = parse_length(value).ok_or(Error::BadRequest)?;
            if length.is_some_and(|m| m != n) {
                return Err(Error::BadRequest);
            }
            length = Some(n);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            if chunked || !value.eq_ignore_ascii_case(b"chunked") {
                return Err(Error::NotImplemented);
            }
            chunked = true;
        } else if name.eq_ignore_ascii_case(b"connection") {
            for token in value.split(|&b| b == b',').map(trim) {
                close |= token.eq_ignore_ascii_case(b"close");
                keep |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case(b"expect") {
            expect_continue = value.eq_ignore_ascii_case(b"100-continue");
        }
    }
    let body = match (length, chunked) {
        (Some(_), true) => return Err(Error::BadRequest),
        (_, true) if http10 => return Err(Error::BadRequest),
        (_, true) => Body::Chunked,
        (Some(n), false) if n > limits.max_body as u64 => return Err(Error::BodyTooLarge),
        (n, false) => Body::Length(n.unwrap_or(0) as usize),
    };
    Ok(Head {
        len: 0,
        method,
        echo,
        http10,
        keep_alive: !close && (!http10 || keep),
        body,
        expect_continue,
    })
}

/// The CRLF-terminated lines of a head (its final empty line excluded); a bare CR or LF is
/// an error.
struct Lines<'a>(&'a [u8]);

impl<'a> Iterator for Lines<'a> {
    type Item = Result<&'a [u8], Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.0.is_empty() {
            return None;
        }
        let end = find(self.0, b"\r\n")?;
        let line = &self.0[..end];
        self.0 = &self.0[end + 2..];
        if line.contains(&b'\r') || line.contains(&b'\n') {
            return Some(Err(Error::BadRequest));
        }
        Some(Ok(line))
    }
}

/// A `Content-Length` value: digits only.
fn parse_length(value: &[u8]) -> Option<u64> {
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// RFC 9110's `tchar`: the bytes of a method or a header name.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where a chunked body stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data: this many bytes left.
    Data(usize),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// Expecting trailer lines, then the empty line.
    Trailer,
    Done,
}

/// Decodes a chunked body as its bytes arrive.
#[derive(Debug)]
pub(crate) struct ChunkedDecoder {
    limits: Limits,
    state: Chunk,
    body_len: usize,
    trailer_len: usize,
}

/// The longest chunk-size line (extensions included) accepted.
const MAX_SIZE_LINE: usize = 1024;

impl ChunkedDecoder {
    pub(crate) fn new(limits: Limits) -> ChunkedDecoder {
        ChunkedDecoder {
            limits,
            state: Chunk::Size,
            body_len: 0,
            trailer_len: 0,
        }
    }

    /// Decodes what it can of `input`, appending the data to `body` (if given: else it is
    /// skipped); returns the bytes used and whether the body is complete.
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        mut body: Option<&mut Vec<u8>>,
    ) -> Result<(usize, bool), Error> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match self.state {
                Chunk::Done => return Ok((used, true)),
                Chunk::Size | Chunk::Trailer => {
                    let max = match self.state {
                        Chunk::Size => MAX_SIZE_LINE,
                        _ => self.limits.max_head - self.trailer_len,
                    };
                    let Some(end) = find(&rest[..rest.len().min(max + 2)], b"\r\n") else {
                        return match rest.len() >= max + 2 {
                            true if self.state == Chunk::Size => Err(Error::BadRequest),
                            true => Err(Error::HeadTooLarge),
                            false => Ok((used, false)),
                        };
                    };
                    let line = &rest[..end];
                    used += end + 2;
                    self.state = match self.state {
                        Chunk::Size => self.chunk_size(line)?,
                        _ if line.is_empty() => Chunk::Done,
                        _ => {
                            self.trailer_len += end + 2;
                            Chunk::Trailer
                        }
                    };
                }
                Chunk::Data(left) => {
                    let take = left.min(rest.len());
                    if let Some(body) = body.as_deref_mut() {
                        body.extend_from_slice(&rest[..take]);
                    }
                    used += take;
                    if take < left {
                        self.state = Chunk::Data(left - take);
                        return Ok((used, false));
                    }
                    self.state = Chunk::DataEnd;
                }
                Chunk::DataEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        used += 2;
                        self.state = Chunk::Size;
                    }
                    [] | [b'\r'] => return Ok((used, false)),
                    _ => return Err(Error::BadRequest),
                },
            }
        }
    }

    /// Parses `hex-size [; extensions]` and returns the next state.
    fn chunk_size(&mut self, line: &[u8]) -> Result<Chunk, Error> {
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let extensions = trim(&line[digits..]);
        if digits == 0 || digits > 16 || !(extensions.is_empty() || extensions[0] == b';') {
            return Err(Error::BadRequest);
        }
        let hex = std::str::from_utf8(&line[..digits]).map_err(|_| Error::BadRequest)?;
        let size = u64::from_str_radix(hex, 16).map_err(|_| Error::BadRequest)?;
        if size == 0 {
            return Ok(Chunk::Trailer);
        }
        match usize::try_from(size)
            .ok()
            .and_then(|s| s.checked_add(self.body_len))
        {
            Some(total) if total <= self.limits.max_body => {
                self.body_len = total;
                Ok(Chunk::Data(size as usize))
            }
            _ => Err(Error::BodyTooLarge),
        }
    }
}

#[cfg(test)]
#[path = "http_tests.rs"]
mod tests;
