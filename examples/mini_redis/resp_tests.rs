//! The RESP parser on split input (every byte boundary), inline commands, and the limits.

use super::*;

/// Parses everything `chunks` deliver as a connection would: append a chunk, parse every
/// complete request, drop the parsed bytes. Returns the requests' arguments, and the error
/// that ended the input, if any.
fn parse_chunks<'a>(
    limits: Limits,
    chunks: impl IntoIterator<Item = &'a [u8]>,
) -> (Vec<Vec<Vec<u8>>>, Option<ProtocolError>) {
    let mut parser = Parser::new(limits);
    let mut buffer = Vec::new();
    let mut requests = Vec::new();
    for chunk in chunks {
        buffer.extend_from_slice(chunk);
        let mut parsed = 0;
        loop {
            match parser.parse(&buffer[parsed..]) {
                Ok(Some(len)) => {
                    let args = parser.args(&buffer[parsed..]);
                    let args: Vec<Vec<u8>> =
                        (0..args.len()).map(|i| args.get(i).to_vec()).collect();
                    if !args.is_empty() {
                        requests.push(args);
                    }
                    parsed += len;
                }
                Ok(None) => break,
                Err(e) => return (requests, Some(e)),
            }
        }
        buffer.drain(..parsed);
    }
    (requests, None)
}

fn parse_all(input: &[u8]) -> (Vec<Vec<Vec<u8>>>, Option<ProtocolError>) {
    parse_chunks(Limits::REDIS, [input])
}

fn words(request: &[&str]) -> Vec<Vec<u8>> {
    request.iter().map(|w| w.as_bytes().to_vec()).collect()
}

const PIPELINE: &[u8] = b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$10\r\nva\r\nl\0ue!!\r\n\
    *0\r\n*-1\r\nPING\r\n\r\n  get   key \n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n\
    set k \"a \\x41\\n\" 'it\\'s'\r\n";

fn pipeline_requests() -> Vec<Vec<Vec<u8>>> {
    vec![
        vec![b"SET".to_vec(), b"key".to_vec(), b"va\r\nl\0ue!!".to_vec()],
        words(&["PING"]),
        words(&["get", "key"]),
        words(&["ECHO", ""]),
        words(&["set", "k", "a A\n", "it's"]),
    ]
}

#[test]
fn a_pipeline_parses_whole() {
    assert_eq!(parse_all(PIPELINE), (pipeline_requests(), None));
}

#[test]
fn a_pipeline_split_at_every_byte_boundary_parses_the_same() {
    for at in 0..=PIPELINE.len() {
        let (head, tail) = PIPELINE.split_at(at);
        assert_eq!(
            parse_chunks(Limits::REDIS, [head, tail]),
            (pipeline_requests(), None),
            "split at {at}"
        );
    }
}

#[test]
fn a_pipeline_arriving_byte_by_byte_parses_the_same() {
    let bytes = PIPELINE.chunks(1);
    assert_eq!(
        parse_chunks(Limits::REDIS, bytes),
        (pipeline_requests(), None)
    );
}

#[test]
fn an_incomplete_request_waits() {
    let mut parser = Parser::new(Limits::REDIS);
    for partial in [
        &b"*2\r"[..],
        b"*2\r\n$4\r\nPING",
        b"*2\r\n$4\r\nPING\r\n$1\r\nx\r",
        b"PING\r",
    ] {
        assert_eq!(parser.parse(partial), Ok(None), "{partial:?}");
        parser = Parser::new(Limits::REDIS);
    }
}

#[test]
fn inline_commands_split_as_redis_does() {
    let cases: &[(&[u8], &[&str])] = &[
        (b"PING\r\n", &["PING"]),
        (b"PING\n", &["PING"]),
        (b" \tset  k\tv \r\n", &["set", "k", "v"]),
        (b"set k \"hello world\"\r\n", &["set", "k", "hello world"]),
        (
            b"echo \"\\x41\\x4g\\t\\\\\\\"\"\r\n",
            &["echo", "Ax4g\t\\\""],
        ),
        (b"echo 'a\\'b\\\\n'\r\n", &["echo", "a'b\\\\n"]),
        (b"echo a\"b c\" d\r\n", &["echo", "ab c", "d"]),
        (b"echo \"\" ''\r\n", &["echo", "", ""]),
    ];
    for &(line, expected) in cases {
        assert_eq!(
            parse_all(line),
            (vec![words(expected)], None),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    for line in [
        &b"set k 'a b\r\n"[..],
        b"set k \"a\"b\r\n",
        b"set k \"a\\\"\r\n",
    ] {
        assert_eq!(parse_all(line).1, Some(ProtocolError::UnbalancedQuotes));
    }
}

#[test]
fn oversize_and_malformed_lengths_are_rejected() {
    let cases: &[(&[u8], ProtocolError)] = &[
        (b"*1048577\r\n", ProtocolError::InvalidMultibulkLength),
        (b"*x\r\n", ProtocolError::InvalidMultibulkLength),
        (b"*01\r\n", ProtocolError::InvalidMultibulkLength),
        (b"*1\r\n$536870913\r\n", ProtocolError::InvalidBulkLength),
        (b"*1\r\n$-1\r\n", ProtocolError::InvalidBulkLength),
        (b"*1\r\n$+3\r\n", ProtocolError::InvalidBulkLength),
        (
            b"*1\r\n$99999999999999999999\r\n",
            ProtocolError::InvalidBulkLength,
        ),
        (b"*1\r\n+PING\r\n", ProtocolError::ExpectedDollar(b'+')),
    ];
    for &(input, expected) in cases {
        assert_eq!(
            parse_all(input).1,
            Some(expected),
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
    // The largest lengths Redis accepts are only waited for: nothing is allocated for them.
    let mut parser = Parser::new(Limits::REDIS);
    assert_eq!(parser.parse(b"*1048576\r\n$536870912\r\n"), Ok(None));
}

#[test]
fn lines_without_an_end_are_limited() {
    let long = vec![b'1'; 64 * 1024 + 1];
    let inline = [&b"GET "[..], &long].concat();
    assert_eq!(parse_all(&inline).1, Some(ProtocolError::TooBigInline));
    let count = [&b"*"[..], &long].concat();
    assert_eq!(
        parse_all(&count).1,
        Some(ProtocolError::TooBigMultibulkCount)
    );
    let bulk = [&b"*1\r\n$"[..], &long].concat();
    assert_eq!(parse_all(&bulk).1, Some(ProtocolError::TooBigBulkCount));
    // Within the limit: waited for.
    assert_eq!(parse_all(&inline[..64 * 1024]), (vec![], None));
}

#[test]
fn smaller_limits_apply() {
    let limits = Limits {
        max_args: 2,
        max_bulk: 3,
        max_inline: 8,
    };
    let (_, error) = parse_chunks(limits, [&b"*3\r\n"[..]]);
    assert_eq!(error, Some(ProtocolError::InvalidMultibulkLength));
    let (_, error) = parse_chunks(limits, [&b"*1\r\n$4\r\n"[..]]);
    assert_eq!(error, Some(ProtocolError::InvalidBulkLength));
    let (requests, error) = parse_chunks(limits, [&b"*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n"[..]]);
    assert_eq!((requests, error), (vec![words(&["GET", "key"])], None));
}

#[test]
fn protocol_errors_read_as_redis_sends_them() {
    let mut out = Vec::new();
    ProtocolError::InvalidBulkLength.reply(&mut out);
    ProtocolError::InvalidMultibulkLength.reply(&mut out);
    ProtocolError::ExpectedDollar(b'+').reply(&mut out);
    assert_eq!(
        out,
        b"-ERR Protocol error: invalid bulk length\r\n\
          -ERR Protocol error: invalid multibulk length\r\n\
          -ERR Protocol error: expected '$', got '+'\r\n"
    );
}

#[test]
fn integers_parse_as_string2ll_does() {
    for (text, value) in [("0", Some(0)), ("-1", Some(-1)), ("42", Some(42))] {
        assert_eq!(parse_i64(text.as_bytes()), value);
    }
    assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
    assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
    for bad in [
        "",
        "-",
        "-0",
        "+1",
        "01",
        " 1",
        "1 ",
        "1.5",
        "9223372036854775808",
        "abc",
    ] {
        assert_eq!(parse_i64(bad.as_bytes()), None, "{bad:?}");
    }
}

#[test]
fn replies_encode() {
    let mut out = Vec::new();
    simple(&mut out, b"OK");
    integer(&mut out, i64::MIN);
    integer(&mut out, 0);
    bulk(&mut out, b"hi");
    null(&mut out);
    array(&mut out, 2);
    error(&mut out, b"ERR syntax error");
    assert_eq!(
        out,
        b"+OK\r\n:-9223372036854775808\r\n:0\r\n$2\r\nhi\r\n$-1\r\n*2\r\n-ERR syntax error\r\n"
    );
}
