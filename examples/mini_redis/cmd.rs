//! Command execution: looks the command up in [`COMMANDS`], checks its arity, runs it on the
//! [`Db`] and appends the reply, with Redis's error texts. Runtime-independent.
//!
//! Only strings are stored. `COMMAND` and `CONFIG GET` are stubs, enough for `redis-cli` and
//! `redis-benchmark` (which asks for `CONFIG GET save` and `appendonly` as it starts).
//! Not implemented: `SET`'s `EXAT`/`PXAT` and `EXPIRE`'s `NX`/`XX`/`GT`/`LT`.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::db::{Condition, Db, Expiry, IncrError, Ttl};
use crate::resp::{self, parse_i64, Args, Parser};

/// What the connection does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    /// `QUIT`: close once the replies are sent.
    Close,
}

/// A command: its name (lowercase, as Redis names it in errors), Redis's arity (`n`: exactly
/// `n` arguments, the name included; `-n`: at least `n`), and its code.
struct Command {
    name: &'static str,
    arity: i32,
    run: Run,
}

type Run = fn(&Db, &Args<'_>, &mut Vec<u8>) -> Flow;

/// Every command, the most frequent first (the lookup is a scan).
const COMMANDS: &[Command] = &[
    def("get", 2, get),
    def("set", -3, set),
    def("ping", -1, ping),
    def("incr", 2, incr),
    def("decr", 2, decr),
    def("incrby", 3, incrby),
    def("decrby", 3, decrby),
    def("mget", -2, mget),
    def("mset", -3, mset),
    def("del", -2, del),
    def("exists", -2, exists),
    def("echo", 2, echo),
    def("expire", -3, expire),
    def("ttl", 2, ttl),
    def("pttl", 2, pttl),
    def("dbsize", 1, dbsize),
    def("flushall", -1, flush),
    def("flushdb", -1, flush),
    def("command", -1, command),
    def("config", -2, config),
    def("quit", -1, quit),
];

const fn def(name: &'static str, arity: i32, run: Run) -> Command {
    Command { name, arity, run }
}

const NOT_AN_INTEGER: &[u8] = b"ERR value is not an integer or out of range";
const SYNTAX: &[u8] = b"ERR syntax error";

/// Runs every complete command at the start of `input` (a connection's unread bytes) and
/// appends their replies to `out`; returns how many bytes they took, and whether the
/// connection is to be closed once the replies are sent (`QUIT`, or a protocol error, whose
/// reply is the last).
pub(crate) fn run_batch(
    db: &Db,
    parser: &mut Parser,
    input: &[u8],
    out: &mut Vec<u8>,
) -> (usize, Flow) {
    let mut parsed = 0;
    loop {
        let rest = &input[parsed..];
        match parser.parse(rest) {
            Ok(Some(len)) => {
                let args = parser.args(rest);
                parsed += len;
                if args.len() > 0 && execute(db, &args, out) == Flow::Close {
                    return (parsed, Flow::Close);
                }
            }
            Ok(None) => return (parsed, Flow::Continue),
            Err(e) => {
                e.reply(out);
                return (parsed, Flow::Close);
            }
        }
    }
}

/// Runs the command `args` (not empty) and appends its reply to `out`.
pub(crate) fn execute(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    let name = args.get(0);
    let Some(command) = COMMANDS
        .iter()
        .find(|c| c.name.as_bytes().eq_ignore_ascii_case(name))
    else {
        unknown_command(args, out);
        return Flow::Continue;
    };
    let n = args.len();
    let arity = command.arity;
    if (arity > 0 && n != arity as usize) || n < arity.unsigned_abs() as usize {
        wrong_arity(command.name, out);
        return Flow::Continue;
    }
    (command.run)(db, args, out)
}

/// `-ERR unknown command 'FOO', with args beginning with: 'a' 'b' `, as Redis formats it:
/// the name cut at 128 bytes, arguments while the list is under 128 bytes, CR and LF as
/// spaces.
fn unknown_command(args: &Args<'_>, out: &mut Vec<u8>) {
    let sanitized = |out: &mut Vec<u8>, s: &[u8]| {
        out.extend(
            s.iter()
                .map(|&b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
    };
    out.extend_from_slice(b"-ERR unknown command '");
    let name = args.get(0);
    sanitized(out, &name[..name.len().min(128)]);
    out.extend_from_slice(b"', with args beginning with: ");
    let mut listed = 0;
    for arg in args.iter_from(1) {
        if listed >= 128 {
            break;
        }
        let shown = &arg[..arg.len().min(128 - listed)];
        out.push(b'\'');
        sanitized(out, shown);
        out.extend_from_slice(b"' ");
        listed += shown.len() + 3;
    }
    out.extend_from_slice(b"\r\n");
}

fn wrong_arity(name: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"-ERR wrong number of arguments for '");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"' command\r\n");
}

fn is(arg: &[u8], word: &str) -> bool {
    arg.eq_ignore_ascii_case(word.as_bytes())
}

fn value_or_null(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(value) => resp::bulk(out, value),
        None => resp::null(out),
    }
}

fn get(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    db.get(args.get(1), |value| value_or_null(out, value));
    Flow::Continue
}

/// `SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|KEEPTTL]`.
fn set(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    let mut condition = Condition::Always;
    let mut get = false;
    let mut keep_ttl = false;
    // The `EX`/`PX` argument, and whether it is in milliseconds.
    let mut expire: Option<(&[u8], bool)> = None;
    let mut i = 3;
    while i < args.len() {
        let option = args.get(i);
        let next = (i + 1 < args.len()).then(|| args.get(i + 1));
        let unit = expire.map(|(_, millis)| millis);
        match next {
            _ if is(option, "NX") && condition != Condition::Present => {
                condition = Condition::Missing
            }
            _ if is(option, "XX") && condition != Condition::Missing => {
                condition = Condition::Present
            }
            _ if is(option, "GET") => get = true,
            _ if is(option, "KEEPTTL") && expire.is_none() => keep_ttl = true,
            Some(value) if is(option, "EX") && !keep_ttl && unit != Some(true) => {
                expire = Some((value, false));
                i += 1;
            }
            Some(value) if is(option, "PX") && !keep_ttl && unit != Some(false) => {
                expire = Some((value, true));
                i += 1;
            }
            _ => {
                resp::error(out, SYNTAX);
                return Flow::Continue;
            }
        }
        i += 1;
    }
    let expiry = match expire {
        None if keep_ttl => Expiry::Keep,
        None => Expiry::Never,
        Some((value, millis)) => match parse_i64(value) {
            None => {
                resp::error(out, NOT_AN_INTEGER);
                return Flow::Continue;
            }
            Some(amount) => match deadline(amount, millis) {
                Some(at) if amount > 0 => Expiry::At(at),
                _ => {
                    resp::error(out, b"ERR invalid expire time in 'set' command");
                    return Flow::Continue;
                }
            },
        },
    };
    let set = db.set(args.get(1), args.get(2), condition, expiry, |old| {
        if get {
            value_or_null(out, old);
        }
    });
    match (get, set) {
        (true, _) => {}
        (false, true) => resp::simple(out, b"OK"),
        (false, false) => resp::null(out),
    }
    Flow::Continue
}

/// The instant `amount` seconds (or milliseconds) from now; `None` if out of range: negative,
/// or past Redis's limit, a Unix time in milliseconds that fits an `i64`.
fn deadline(amount: i64, millis: bool) -> Option<Instant> {
    let ms = if millis {
        amount
    } else {
        amount.checked_mul(1000)?
    };
    let unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    i64::try_from(unix_ms).ok()?.checked_add(ms)?;
    Instant::now().checked_add(Duration::from_millis(u64::try_from(ms).ok()?))
}

fn ping(_: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    match args.len() {
        1 => resp::simple(out, b"PONG"),
        2 => resp::bulk(out, args.get(1)),
        _ => wrong_arity("ping", out),
    }
    Flow::Continue
}

fn echo(_: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    resp::bulk(out, args.get(1));
    Flow::Continue
}

fn del(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    let deleted = args.iter_from(1).filter(|key| db.delete(key)).count();
    resp::integer(out, deleted as i64);
    Flow::Continue
}

fn exists(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    let found = args.iter_from(1).filter(|key| db.exists(key)).count();
    resp::integer(out, found as i64);
    Flow::Continue
}

fn add(db: &Db, key: &[u8], delta: i64, out: &mut Vec<u8>) -> Flow {
    match db.incr_by(key, delta) {
        Ok(value) => resp::integer(out, value),
        Err(IncrError::NotAnInteger) => resp::error(out, NOT_AN_INTEGER),
        Err(IncrError::Overflow) => resp::error(out, b"ERR increment or decrement would overflow"),
    }
    Flow::Continue
}

fn incr(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    add(db, args.get(1), 1, out)
}

fn decr(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    add(db, args.get(1), -1, out)
}

fn incrby(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    match parse_i64(args.get(2)) {
        Some(delta) => add(db, args.get(1), delta, out),
        None => {
            resp::error(out, NOT_AN_INTEGER);
            Flow::Continue
        }
    }
}

fn decrby(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    match parse_i64(args.get(2)) {
        None => resp::error(out, NOT_AN_INTEGER),
        Some(i64::MIN) => resp::error(out, b"ERR decrement would overflow"),
        Some(delta) => return add(db, args.get(1), -delta, out),
    }
    Flow::Continue
}

fn mget(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    resp::array(out, args.len() - 1);
    db.get_many(args.iter_from(1), |value| value_or_null(out, value));
    Flow::Continue
}

fn mset(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    if args.len() % 2 == 0 {
        wrong_arity("mset", out);
        return Flow::Continue;
    }
    let pairs = (1..args.len())
        .step_by(2)
        .map(|i| (args.get(i), args.get(i + 1)));
    db.set_many(pairs);
    resp::simple(out, b"OK");
    Flow::Continue
}

/// `EXPIRE key seconds`: a time not in the future removes the key, as in Redis.
fn expire(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    let Some(seconds) = parse_i64(args.get(2)) else {
        resp::error(out, NOT_AN_INTEGER);
        return Flow::Continue;
    };
    if args.len() > 3 {
        out.extend_from_slice(b"-ERR Unsupported option ");
        out.extend_from_slice(args.get(3));
        out.extend_from_slice(b"\r\n");
        return Flow::Continue;
    }
    let invalid = |out: &mut Vec<u8>| {
        resp::error(out, b"ERR invalid expire time in 'expire' command");
        Flow::Continue
    };
    let at = match seconds.checked_mul(1000) {
        Some(ms) if ms <= 0 => None,
        Some(ms) => match deadline(ms, true) {
            Some(at) => Some(at),
            None => return invalid(out),
        },
        None => return invalid(out),
    };
    resp::integer(out, i64::from(db.expire(args.get(1), at)));
    Flow::Continue
}

fn ttl(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    let seconds = match db.ttl(args.get(1)) {
        Ttl::Missing => -2,
        Ttl::Persistent => -1,
        Ttl::Millis(ms) => ms.saturating_add(500) as i64 / 1000,
    };
    resp::integer(out, seconds);
    Flow::Continue
}

fn pttl(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    let millis = match db.ttl(args.get(1)) {
        Ttl::Missing => -2,
        Ttl::Persistent => -1,
        Ttl::Millis(ms) => ms.min(i64::MAX as u64) as i64,
    };
    resp::integer(out, millis);
    Flow::Continue
}

fn dbsize(db: &Db, _: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    resp::integer(out, db.len() as i64);
    Flow::Continue
}

/// `FLUSHALL`/`FLUSHDB [ASYNC|SYNC]` (one database: both flush it).
fn flush(db: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    match args.len() {
        1 => {}
        2 if is(args.get(1), "ASYNC") || is(args.get(1), "SYNC") => {}
        _ => {
            resp::error(out, SYNTAX);
            return Flow::Continue;
        }
    }
    db.flush();
    resp::simple(out, b"OK");
    Flow::Continue
}

fn unknown_subcommand(sub: &[u8], command: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(b"-ERR unknown subcommand '");
    out.extend_from_slice(&sub[..sub.len().min(128)]);
    out.extend_from_slice(b"'. Try ");
    out.extend_from_slice(command.as_bytes());
    out.extend_from_slice(b" HELP.\r\n");
}

/// `COMMAND` (an empty table), `COMMAND COUNT`, `COMMAND DOCS` (no docs): a stub.
fn command(_: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    match args.len() {
        1 => resp::array(out, 0),
        _ if is(args.get(1), "COUNT") => resp::integer(out, COMMANDS.len() as i64),
        _ if is(args.get(1), "DOCS") => resp::array(out, 0),
        _ => unknown_subcommand(args.get(1), "COMMAND", out),
    }
    Flow::Continue
}

/// `CONFIG GET parameter...`, a stub knowing `save` (empty: no snapshots) and `appendonly`
/// (`no`), as `redis-server --save '' --appendonly no` replies.
fn config(_: &Db, args: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    if !is(args.get(1), "GET") {
        unknown_subcommand(args.get(1), "CONFIG", out);
        return Flow::Continue;
    }
    if args.len() < 3 {
        wrong_arity("config|get", out);
        return Flow::Continue;
    }
    let value = |name: &[u8]| match () {
        _ if is(name, "save") => Some(&b""[..]),
        _ if is(name, "appendonly") => Some(&b"no"[..]),
        _ => None,
    };
    let known = args
        .iter_from(2)
        .filter(|name| value(name).is_some())
        .count();
    resp::array(out, 2 * known);
    for name in args.iter_from(2) {
        if let Some(value) = value(name) {
            resp::bulk(out, name);
            resp::bulk(out, value);
        }
    }
    Flow::Continue
}

fn quit(_: &Db, _: &Args<'_>, out: &mut Vec<u8>) -> Flow {
    resp::simple(out, b"OK");
    Flow::Close
}

#[cfg(test)]
#[path = "cmd_tests.rs"]
mod tests;
