//! The commands' replies, checked against what Redis 7.0 sends for the same input.

use super::*;
use crate::resp::{Limits, Parser};

/// Runs every command of `input` (inline or RESP) on `db`; returns the replies.
fn run(db: &Db, input: &str) -> String {
    let mut parser = Parser::new(Limits::REDIS);
    let mut out = Vec::new();
    let mut rest = input.as_bytes();
    while let Some(len) = parser.parse(rest).expect("valid input") {
        let args = parser.args(rest);
        if args.len() > 0 {
            execute(db, &args, &mut out);
        }
        rest = &rest[len..];
    }
    assert!(rest.is_empty(), "incomplete input: {rest:?}");
    String::from_utf8(out).expect("UTF-8 replies")
}

fn check(cases: &[(&str, &str)]) {
    let db = Db::new(4);
    for (input, expected) in cases {
        assert_eq!(run(&db, input), *expected, "input {input:?}");
    }
}

#[test]
fn strings() {
    check(&[
        ("PING\r\nping hello\r\n", "+PONG\r\n$5\r\nhello\r\n"),
        (
            "SET k v\r\nGET k\r\nGET nope\r\n",
            "+OK\r\n$1\r\nv\r\n$-1\r\n",
        ),
        (
            "set k w get\r\nset k x nx get\r\nset zz w nx get\r\n",
            "$1\r\nv\r\n$1\r\nw\r\n$-1\r\n",
        ),
        (
            "SET k v XX\r\nSET new v XX\r\nSET k v NX\r\n",
            "+OK\r\n$-1\r\n$-1\r\n",
        ),
        (
            "MSET a 1 b 2\r\nMGET a b zz\r\n",
            "+OK\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\nw\r\n",
        ),
        (
            "EXISTS a a zz\r\nDEL a b c\r\nDBSIZE\r\n",
            ":3\r\n:2\r\n:2\r\n",
        ),
        (
            "ECHO \"\"\r\nFLUSHALL ASYNC\r\nDBSIZE\r\n",
            "$0\r\n\r\n+OK\r\n:0\r\n",
        ),
        ("QUIT\r\n", "+OK\r\n"),
    ]);
}

#[test]
fn integers() {
    check(&[
        (
            "SET n 10\r\nINCRBY n -3\r\nDECR n\r\nINCR n\r\nDECRBY n 2\r\n",
            "+OK\r\n:7\r\n:6\r\n:7\r\n:5\r\n",
        ),
        ("INCR fresh\r\n", ":1\r\n"),
        (
            "SET k abc\r\nINCR k\r\n",
            "+OK\r\n-ERR value is not an integer or out of range\r\n",
        ),
        (
            "SET n 010\r\nINCR n\r\n",
            "+OK\r\n-ERR value is not an integer or out of range\r\n",
        ),
        (
            "INCRBY k x\r\n",
            "-ERR value is not an integer or out of range\r\n",
        ),
        (
            "SET x 9223372036854775807\r\nINCR x\r\n",
            "+OK\r\n-ERR increment or decrement would overflow\r\n",
        ),
        (
            "SET x -1\r\nDECRBY x 9223372036854775807\r\nDECRBY x 1\r\n",
            "+OK\r\n:-9223372036854775808\r\n-ERR increment or decrement would overflow\r\n",
        ),
    ]);
}

#[test]
fn expiry() {
    check(&[
        (
            "SET t 1\r\nTTL t\r\nEXPIRE t 100\r\nTTL t\r\nTTL zz\r\n",
            "+OK\r\n:-1\r\n:1\r\n:100\r\n:-2\r\n",
        ),
        ("SET t 1 PX 1500\r\nTTL t\r\n", "+OK\r\n:2\r\n"),
        (
            "SET t 1 EX 5\r\nSET t 2 KEEPTTL\r\nTTL t\r\nSET t 3\r\nTTL t\r\n",
            "+OK\r\n+OK\r\n:5\r\n+OK\r\n:-1\r\n",
        ),
        (
            "SET x 1\r\nEXPIRE x -5\r\nEXISTS x\r\nEXPIRE x 5\r\n",
            "+OK\r\n:1\r\n:0\r\n:0\r\n",
        ),
        ("SET k v EX 1 EX 2\r\nTTL k\r\n", "+OK\r\n:2\r\n"),
    ]);
    let db = Db::new(4);
    assert_eq!(run(&db, "SET gone v PX 1\r\n"), "+OK\r\n");
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(run(&db, "GET gone\r\nEXISTS gone\r\n"), "$-1\r\n:0\r\n");
}

#[test]
fn errors_read_as_redis_sends_them() {
    let long = "N".repeat(140);
    let unknown_long = format!(
        "-ERR unknown command '{}', with args beginning with: \r\n",
        &long[..128]
    );
    let a100 = "a".repeat(100);
    let unknown_args = format!(
        "-ERR unknown command 'FOO', with args beginning with: '{a100}' '{}' \r\n",
        "b".repeat(25)
    );
    check(&[
        ("FOO a b\r\n", "-ERR unknown command 'FOO', with args beginning with: 'a' 'b' \r\n"),
        ("*2\r\n$3\r\nFOO\r\n$4\r\na\r\nb\r\n", "-ERR unknown command 'FOO', with args beginning with: 'a  b' \r\n"),
        (&format!("{long}\r\n"), &unknown_long),
        (&format!("FOO {a100} {} ccc\r\n", "b".repeat(50)), &unknown_args),
        ("GET\r\nGET a b\r\n", "-ERR wrong number of arguments for 'get' command\r\n".repeat(2).as_str()),
        ("MSET a 1 b\r\n", "-ERR wrong number of arguments for 'mset' command\r\n"),
        ("PING a b\r\n", "-ERR wrong number of arguments for 'ping' command\r\n"),
        ("SET k v NX XX\r\nSET k v EX 10 PX 100\r\nSET k v FOO\r\n", &"-ERR syntax error\r\n".repeat(3)),
        ("SET k v KEEPTTL EX 1\r\nFLUSHALL x\r\n", &"-ERR syntax error\r\n".repeat(2)),
        ("SET k v EX 0\r\nSET k v PX -1\r\n", &"-ERR invalid expire time in 'set' command\r\n".repeat(2)),
        ("SET k v EX 9223372036854775807\r\nSET k v PX 9223372036854775807\r\n", &"-ERR invalid expire time in 'set' command\r\n".repeat(2)),
        ("SET k v EX x\r\nEXPIRE a x\r\n", &"-ERR value is not an integer or out of range\r\n".repeat(2)),
        ("EXPIRE a 99999999999999999\r\n", "-ERR invalid expire time in 'expire' command\r\n"),
        ("EXPIRE a 10 FOO\r\n", "-ERR Unsupported option FOO\r\n"),
        ("CONFIG\r\nCONFIG GET\r\n", "-ERR wrong number of arguments for 'config' command\r\n-ERR wrong number of arguments for 'config|get' command\r\n"),
        ("CONFIG FOO\r\nCOMMAND FOO\r\n", "-ERR unknown subcommand 'FOO'. Try CONFIG HELP.\r\n-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n"),
    ]);
}

#[test]
fn stubs_satisfy_the_clients() {
    check(&[
        ("CONFIG GET save\r\n", "*2\r\n$4\r\nsave\r\n$0\r\n\r\n"),
        (
            "CONFIG GET appendonly\r\nCONFIG GET nosuch\r\n",
            "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n*0\r\n",
        ),
        ("COMMAND DOCS\r\nCOMMAND\r\n", "*0\r\n*0\r\n"),
    ]);
}
