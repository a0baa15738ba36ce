//! RESP2, Redis's protocol: a resumable request parser that works in place on the bytes
//! received, and the reply encoders. Runtime-independent (plain `&[u8]` in, `Vec<u8>` out), so
//! that the benchmark suite can build the same server on another runtime.
//!
//! # Requests
//!
//! A request is a *multibulk*, `*<n>\r\n` then `n` times `$<len>\r\n<len bytes>\r\n`, or an
//! *inline* command, one line of space-separated words (`PING\r\n` typed by hand), split as
//! Redis's `sdssplitargs` does (`"..."` with `\n`, `\xHH`, ... escapes, `'...'`).
//!
//! [`Parser::parse`] is given the unread bytes and returns the length of the first complete
//! request; [`Parser::args`] then gives its arguments as slices of those same bytes (an inline
//! command with quotes is unescaped into the parser's scratch buffer instead), so a command
//! costs no allocation. A multibulk that is not complete yet keeps its progress in the
//! parser: the next call, given the same bytes and more, goes on from where it stopped, so a
//! long command arriving in pieces is not parsed again from its start.
//!
//! # Limits and errors
//!
//! As Redis does: at most [`Limits::max_args`] arguments, [`Limits::max_bulk`] bytes per
//! argument, 64 KiB for a line whose end has not come. Anything else is a [`ProtocolError`],
//! after which Redis replies with the error and closes the connection. As in Redis, the two
//! bytes after a line's `\r` or after a bulk's bytes are skipped, not checked.

use std::ops::Range;

/// The protocol's limits (Redis's defaults by [`Limits::REDIS`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The most arguments a multibulk may have.
    pub(crate) max_args: usize,
    /// The longest argument (Redis's `proto-max-bulk-len`).
    pub(crate) max_bulk: usize,
    /// The longest line (an inline command, a `*` or `$` header) Redis waits for.
    pub(crate) max_inline: usize,
}

impl Limits {
    /// Redis's: 1M arguments, 512 MiB bulks, 64 KiB lines.
    pub(crate) const REDIS: Limits = Limits {
        max_args: 1024 * 1024,
        max_bulk: 512 * 1024 * 1024,
        max_inline: 64 * 1024,
    };
}

/// A request Redis would refuse; the connection is closed after the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProtocolError {
    InvalidMultibulkLength,
    InvalidBulkLength,
    ExpectedDollar(u8),
    TooBigMultibulkCount,
    TooBigBulkCount,
    TooBigInline,
    UnbalancedQuotes,
}

impl ProtocolError {
    /// Appends the error reply Redis sends.
    pub(crate) fn reply(self, out: &mut Vec<u8>) {
        let message: &[u8] = match self {
            ProtocolError::InvalidMultibulkLength => b"invalid multibulk length",
            ProtocolError::InvalidBulkLength => b"invalid bulk length",
            ProtocolError::ExpectedDollar(got) => {
                out.extend_from_slice(b"-ERR Protocol error: expected '$', got '");
                out.push(got);
                out.extend_from_slice(b"'\r\n");
                return;
            }
            ProtocolError::TooBigMultibulkCount => b"too big mbulk count string",
            ProtocolError::TooBigBulkCount => b"too big bulk count string",
            ProtocolError::TooBigInline => b"too big inline request",
            ProtocolError::UnbalancedQuotes => b"unbalanced quotes in request",
        };
        out.extend_from_slice(b"-ERR Protocol error: ");
        out.extend_from_slice(message);
        out.extend_from_slice(b"\r\n");
    }
}

/// Where a multibulk in progress stands.
#[derive(Debug, Clone, Copy)]
struct Multibulk {
    /// Arguments still to come.
    remaining: usize,
    /// Where the next argument's `$` line starts.
    at: usize,
}

/// A resumable request parser; see the module docs.
#[derive(Debug)]
pub(crate) struct Parser {
    limits: Limits,
    /// The arguments of the last request parsed (or in progress): ranges of the input, or of
    /// `scratch` when `unescaped`.
    args: Vec<Range<usize>>,
    scratch: Vec<u8>,
    unescaped: bool,
    multibulk: Option<Multibulk>,
}

/// The arguments of a parsed request (the command name first).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Args<'a> {
    base: &'a [u8],
    ranges: &'a [Range<usize>],
}

impl<'a> Args<'a> {
    /// The number of arguments.
    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
    }

    /// The `i`th argument (`i < len()`).
    pub(crate) fn get(&self, i: usize) -> &'a [u8] {
        &self.base[self.ranges[i].clone()]
    }

    /// The arguments from the `from`th on.
    pub(crate) fn iter_from(&self, from: usize) -> impl Iterator<Item = &'a [u8]> + Clone + '_ {
        self.ranges[from..].iter().map(|r| &self.base[r.clone()])
    }
}

impl Parser {
    pub(crate) fn new(limits: Limits) -> Parser {
        Parser {
            limits,
            args: Vec::new(),
            scratch: Vec::new(),
            unescaped: false,
            multibulk: None,
        }
    }

    /// Parses the first request of `input`: `Ok(Some(len))` if it is complete (its arguments
    /// are then [`args`](Parser::args); none for an empty line or `*0`), `Ok(None)` if more
    /// bytes are needed. After `Ok(None)`, the next call must be given the same bytes, and
    /// maybe more.
    pub(crate) fn parse(&mut self, input: &[u8]) -> Result<Option<usize>, ProtocolError> {
        if let Some(multibulk) = self.multibulk {
            return self.parse_bulks(input, multibulk);
        }
        self.args.clear();
        self.unescaped = false;
        match input.first() {
            None => Ok(None),
            Some(b'*') => self.parse_multibulk(input),
            Some(_) => self.parse_inline(input),
        }
    }

    /// The arguments of the request `parse` just returned, as slices of `input` (the bytes
    /// that were given to it).
    pub(crate) fn args<'a>(&'a self, input: &'a [u8]) -> Args<'a> {
        let base = if self.unescaped {
            &self.scratch[..]
        } else {
            input
        };
        Args {
            base,
            ranges: &self.args,
        }
    }

    fn parse_multibulk(&mut self, input: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let Some(end) = line_end(input, 0, self.limits.max_inline)
            .map_err(|()| ProtocolError::TooBigMultibulkCount)?
        else {
            return Ok(None);
        };
        let count = parse_i64(&input[1..end]).ok_or(ProtocolError::InvalidMultibulkLength)?;
        if count > self.limits.max_args as i64 {
            return Err(ProtocolError::InvalidMultibulkLength);
        }
        let at = end + 2;
        if count <= 0 {
            return Ok(Some(at));
        }
        let remaining = count as usize;
        self.parse_bulks(input, Multibulk { remaining, at })
    }

    fn parse_bulks(
        &mut self,
        input: &[u8],
        mut state: Multibulk,
    ) -> Result<Option<usize>, ProtocolError> {
        self.multibulk = None;
        while state.remaining > 0 {
            let max_line = self.limits.max_inline;
            let Some(end) =
                line_end(input, state.at, max_line).map_err(|()| ProtocolError::TooBigBulkCount)?
            else {
                self.multibulk = Some(state);
                return Ok(None);
            };
            if input[state.at] != b'$' {
                return Err(ProtocolError::ExpectedDollar(input[state.at]));
            }
            let len = match parse_i64(&input[state.at + 1..end]) {
                Some(len) if len >= 0 && len as u64 <= self.limits.max_bulk as u64 => len as usize,
                _ => return Err(ProtocolError::InvalidBulkLength),
            };
            let start = end + 2;
            if input.len() < start + len + 2 {
                self.multibulk = Some(state);
                return Ok(None);
            }
            self.args.push(start..start + len);
            state.at = start + len + 2;
            state.remaining -= 1;
        }
        Ok(Some(state.at))
    }

    fn parse_inline(&mut self, input: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let Some(newline) = memchr(b'\n', input) else {
            return match input.len() > self.limits.max_inline {
                true => Err(ProtocolError::TooBigInline),
                false => Ok(None),
            };
        };
        let mut line = &input[..newline];
        if let [rest @ .., b'\r'] = line {
            line = rest;
        }
        if line.contains(&b'"') || line.contains(&b'\'') {
            self.unescaped = true;
            split_quoted(line, &mut self.scratch, &mut self.args)?;
        } else {
            split_words(line, &mut self.args);
        }
        Ok(Some(newline + 1))
    }
}

/// The index of the `\r` ending the line that starts at `from`, once the byte after it has
/// arrived too; `Err` if the line is longer than `max` (Redis's check).
fn line_end(input: &[u8], from: usize, max: usize) -> Result<Option<usize>, ()> {
    match memchr(b'\r', &input[from..]) {
        Some(at) if from + at + 1 < input.len() => Ok(Some(from + at)),
        Some(_) => Ok(None),
        None if input.len() - from > max => Err(()),
        None => Ok(None),
    }
}

fn memchr(byte: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == byte)
}

/// Splits an inline line without quotes on spaces and tabs (Redis's `isspace`).
fn split_words(line: &[u8], args: &mut Vec<Range<usize>>) {
    let mut start = None;
    for (i, &b) in line.iter().enumerate() {
        match (b.is_ascii_whitespace() || b == 0x0b, start) {
            (true, Some(s)) => {
                args.push(s..i);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        args.push(s..line.len());
    }
}

/// Splits an inline line with quotes as Redis's `sdssplitargs`, unescaping into `scratch`.
fn split_quoted(
    line: &[u8],
    scratch: &mut Vec<u8>,
    args: &mut Vec<Range<usize>>,
) -> Result<(), ProtocolError> {
    scratch.clear();
    let space = |b: u8| b.is_ascii_whitespace() || b == 0x0b;
    let mut i = 0;
    loop {
        while i < line.len() && space(line[i]) {
            i += 1;
        }
        if i == line.len() {
            return Ok(());
        }
        let start = scratch.len();
        let mut quote = None;
        loop {
            let Some(&b) = line.get(i) else {
                if quote.is_some() {
                    return Err(ProtocolError::UnbalancedQuotes);
                }
                break;
            };
            match quote {
                None if space(b) => break,
                None if b == b'"' || b == b'\'' => quote = Some(b),
                None => scratch.push(b),
                Some(q) if b == q => {
                    // A closing quote must be followed by a space or the end.
                    if line.get(i + 1).is_some_and(|&next| !space(next)) {
                        return Err(ProtocolError::UnbalancedQuotes);
                    }
                    i += 1;
                    break;
                }
                Some(b'"') if b == b'\\' && i + 1 < line.len() => {
                    if let Some(byte) = hex_escape(&line[i + 1..]) {
                        scratch.push(byte);
                        i += 3;
                    } else {
                        i += 1;
                        scratch.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                    }
                }
                Some(b'\'') if b == b'\\' && line.get(i + 1) == Some(&b'\'') => {
                    scratch.push(b'\'');
                    i += 1;
                }
                Some(_) => scratch.push(b),
            }
            i += 1;
        }
        args.push(start..scratch.len());
    }
}

/// The byte of an `xHH` escape (the bytes after a `\\` in double quotes), if it is one.
fn hex_escape(escape: &[u8]) -> Option<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    match escape {
        [b'x', hi, lo, ..] => Some((hex(*hi)? << 4 | hex(*lo)?) as u8),
        _ => None,
    }
}

/// Parses a signed decimal as Redis's `string2ll`: no sign but `-`, no leading zeros, no
/// spaces, no `-0`, within `i64`.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s {
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if !matches!(digits.first(), Some(b'1'..=b'9')) || digits.len() > 19 {
        return None;
    }
    let mut value: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    if negative {
        0i64.checked_sub_unsigned(value)
    } else {
        i64::try_from(value).ok()
    }
}

/// Appends a simple string reply: `+OK\r\n`.
pub(crate) fn simple(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'+');
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// Appends an error reply; `message` starts with its code (`ERR ...`, `WRONGTYPE ...`).
pub(crate) fn error(out: &mut Vec<u8>, message: &[u8]) {
    out.push(b'-');
    out.extend_from_slice(message);
    out.extend_from_slice(b"\r\n");
}

/// Appends an integer reply: `:42\r\n`.
pub(crate) fn integer(out: &mut Vec<u8>, n: i64) {
    out.push(b':');
    decimal(out, n);
    out.extend_from_slice(b"\r\n");
}

/// Appends a bulk string reply: `$5\r\nhello\r\n`.
pub(crate) fn bulk(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'$');
    decimal(out, s.len() as i64);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(s);
    out.extend_from_slice(b"\r\n");
}

/// Appends the null bulk reply, `$-1\r\n` (a missing key).
pub(crate) fn null(out: &mut Vec<u8>) {
    out.extend_from_slice(b"$-1\r\n");
}

/// Appends an array header: `*<n>\r\n`; its `n` elements follow.
pub(crate) fn array(out: &mut Vec<u8>, n: usize) {
    out.push(b'*');
    decimal(out, n as i64);
    out.extend_from_slice(b"\r\n");
}

/// Appends `n` in decimal, without allocating.
pub(crate) fn decimal(out: &mut Vec<u8>, n: i64) {
    let mut digits = [0u8; 20];
    let len = format_i64(n, &mut digits);
    out.extend_from_slice(&digits[..len]);
}

/// Writes `n` in decimal at the start of `buf` (20 bytes fit `i64::MIN`); returns the length.
pub(crate) fn format_i64(n: i64, buf: &mut [u8; 20]) -> usize {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        digits[at] = b'-';
    }
    let len = digits.len() - at;
    buf[..len].copy_from_slice(&digits[at..]);
    len
}

#[cfg(test)]
#[path = "resp_tests.rs"]
mod tests;
