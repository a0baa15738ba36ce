//! A Redis server on ringloop's streams: RESP2 (and inline commands), strings only, with
//! pipelining, expiry and a sharded store.
//!
//! ```text
//! cargo run --release --example mini_redis -- --port 6379 [--flavor multi|single] [--workers N]
//! redis-cli -p 6379 SET greeting hello
//! redis-benchmark -p 6379 -t set,get -n 100000 -P 16 -q
//! ```
//!
//! Commands: `PING`, `ECHO`, `SET` (`EX`/`PX`/`NX`/`XX`/`KEEPTTL`/`GET`), `GET`, `DEL`,
//! `EXISTS`, `INCR`/`DECR`/`INCRBY`/`DECRBY`, `MGET`/`MSET`, `EXPIRE`/`TTL`/`PTTL`, `DBSIZE`,
//! `FLUSHALL`/`FLUSHDB`, `QUIT`, and `COMMAND`/`CONFIG GET` stubs; errors as Redis words them.
//!
//! The protocol (`resp.rs`), the store (`db.rs`) and the commands (`cmd.rs`) know nothing of
//! the runtime; this file is the server around them:
//!
//! * each connection parses every complete command in its reader's buffer in place
//!   ([`StreamReader::buffer`]), appends every reply to one buffer, then writes the batch
//!   once and drains: a pipeline of a hundred `GET`s is one receive and one send;
//! * a hostile client cannot make it allocate without bound: Redis's protocol limits (1M
//!   arguments, 512 MiB per argument, 64 KiB lines), and a connection whose unparsed bytes
//!   pass [`MAX_QUERY_BUFFER`] (Redis's `client-query-buffer-limit`) is closed;
//! * a task removes expired keys every 100 ms (they are also removed when found);
//! * SIGINT/SIGTERM: stop accepting, let connections finish their batch, exit 0.

#[path = "../support/server_main.rs"]
mod server_main;
#[path = "../support/shutdown.rs"]
mod shutdown;

mod cmd;
mod db;
mod resp;

use std::io;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ringloop::streams::{ServerConfig, StreamReader, StreamWriter};

use crate::cmd::Flow;
use crate::db::Db;
use crate::resp::{Limits, Parser};

use crate::shutdown::Stop;

/// The most unparsed bytes a connection may hold (Redis's `client-query-buffer-limit`).
const MAX_QUERY_BUFFER: usize = 1 << 30;

/// How often the expired keys of a tenth of the shards are removed.
const SWEEP_EVERY: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    server_main::run("mini_redis", 6379, |setup, workers| async move {
        let db = Arc::new(Db::new(Db::shards_for(workers)));
        ringloop::create_task(sweep(Arc::clone(&db))).detach();
        let stop = setup.stop;
        let serve = move |reader, writer| serve(Arc::clone(&db), Arc::clone(&stop), reader, writer);
        ServerConfig::new()
            .backlog(1024)
            .start(serve, &setup.host, setup.port)
            .await
    })
}

/// Removes expired keys, a tenth of the shards at a time: each shard about once a second.
async fn sweep(db: Arc<Db>) {
    let mut cursor = 0;
    let per_tick = db.shard_count().div_ceil(10);
    loop {
        let _ = ringloop::sleep(SWEEP_EVERY).await;
        db.sweep(&mut cursor, per_tick);
    }
}

/// Serves one connection; connection resets are the client's business, not errors.
async fn serve(
    db: Arc<Db>,
    stop: Arc<Stop>,
    reader: StreamReader,
    writer: StreamWriter,
) -> io::Result<()> {
    match serve_commands(&db, &stop, reader, &writer).await {
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            ) =>
        {
            Ok(())
        }
        other => other,
    }
}

/// The batch loop: parse every complete command buffered, run it, write all the replies
/// at once, then wait for more bytes (or the shutdown).
async fn serve_commands(
    db: &Db,
    stop: &Stop,
    mut reader: StreamReader,
    writer: &StreamWriter,
) -> io::Result<()> {
    let mut stopped = std::pin::pin!(stop.event().wait());
    let mut parser = Parser::new(Limits::REDIS);
    let mut replies = Vec::with_capacity(16 * 1024);
    loop {
        let input = reader.buffer();
        let (parsed, flow) = cmd::run_batch(db, &mut parser, input, &mut replies);
        let unparsed = input.len() - parsed;
        reader.consume(parsed);
        if !replies.is_empty() {
            writer.write(&replies)?;
            replies.clear();
            if replies.capacity() > 1 << 20 {
                // One large reply (an MGET of large values) does not stay with the connection.
                replies = Vec::with_capacity(16 * 1024);
            }
            writer.drain().await?;
        }
        if flow == Flow::Close || unparsed > MAX_QUERY_BUFFER {
            // Dropping the writer closes the connection once the replies are sent.
            return Ok(());
        }
        let filled = shutdown::fill_unless_stopped(&mut reader, stopped.as_mut()).await;
        if filled.transpose()?.unwrap_or(0) == 0 {
            // Stopped, or the client is gone.
            return Ok(());
        }
    }
}
