//! The checks made after the runtime of a seed is dropped, each a named function that
//! records what it finds broken in the world's violations.

use crate::ops::PLANNED_PANIC;
use crate::plan::ConnKind;
use crate::poison_buf::BufReport;
use crate::support::block_on_thread;
use crate::world::{Direction, Outcome, ReaderEnd, Role, World, WriterEnd};
use ringloop::TaskError;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

/// How each side of each connection ended: `(connection, is_client) -> killed`.
pub(crate) type Sides = HashMap<(usize, bool), bool>;

/// Every task's join resolved (the runtime is gone: none may still be pending), and each
/// ended as it may: returned; cancelled only on purpose (by the monkey, or the shutdown);
/// panicked only at its planned step, or when cancelled (the chaos of an op, a hostile waker
/// or an armed buffer, fires only where the runtime runs it, never in the op's own task: see
/// `crate::scope`). Returns how the sides ended.
pub(crate) fn every_join_resolved(world: &World, shutdown: bool) -> Sides {
    let mut sides = Sides::new();
    for entry in world.entries() {
        let role = entry.role();
        let Some(task) = entry.take_task() else {
            world.violation(format!("{role:?}: its handle was taken twice"));
            continue;
        };
        if !task.is_done() {
            world.violation(format!("{role:?}: not done after the runtime was dropped"));
            task.detach();
            continue;
        }
        let outcome = match block_on_thread(task) {
            Ok(()) => Outcome::Returned,
            Err(TaskError::Cancelled) => Outcome::Cancelled,
            Err(TaskError::Panicked(payload)) => Outcome::Panicked(payload.message().to_owned()),
        };
        // The monkey's cancel, or the shutdown's, drops the future, and a buffer or waker
        // it held may panic then: that panic becomes the task's outcome.
        let cancelled = shutdown || entry.cancelled.load(Ordering::SeqCst);
        match &outcome {
            Outcome::Cancelled if !cancelled => {
                world.violation(format!("{role:?} was cancelled, by nobody"));
            }
            Outcome::Panicked(message) if !message.starts_with(PLANNED_PANIC) && !cancelled => {
                world.violation(format!("{role:?} panicked: {message}"));
            }
            _ => {}
        }
        let killed = outcome != Outcome::Returned;
        if killed {
            let on_purpose = entry.cancelled.load(Ordering::SeqCst);
            world.note(format!(
                "{role:?} ended {outcome:?} (cancelled on purpose: {on_purpose})"
            ));
        }
        match role {
            Role::Client(id) => drop(sides.insert((id, true), killed)),
            Role::Server(id) if id != usize::MAX => drop(sides.insert((id, false), killed)),
            Role::Acceptor(_) | Role::Monkey if killed && !cancelled => {
                world.violation(format!("{role:?} ended {outcome:?}"));
            }
            _ => {}
        }
    }
    sides
}

/// Every byte of every direction arrived in order, once: see `streams` for what each end
/// may have seen. In a shutdown seed only the prefix checks apply.
pub(crate) fn streams_intact(world: &World, sides: &Sides, shutdown: bool) {
    for conn in &world.conns {
        // A side that never started (its connection was not accepted) counts as killed.
        let killed = |client| sides.get(&(conn.id, client)).copied().unwrap_or(true);
        let (client, server) = (killed(true), killed(false));
        direction_intact(world, &conn.up, client, server, shutdown);
        direction_intact(world, &conn.down, server, client, shutdown);
    }
}

fn direction_intact(
    world: &World,
    dir: &Direction,
    writer_killed: bool,
    reader_killed: bool,
    shutdown: bool,
) {
    let name = &dir.name;
    let received = dir.received.load(Ordering::SeqCst);
    let confirmed = dir.confirmed.load(Ordering::SeqCst);
    let attempted = dir.attempted.load(Ordering::SeqCst);
    let (writer, reader) = (dir.writer_end(), dir.reader_end());
    let fail = |what: String| {
        world.violation(format!(
            "{name}: {what} (received {received}, confirmed {confirmed}, attempted \
             {attempted}, total {}; writer {writer:?}{}, reader {reader:?}{})",
            dir.total,
            if writer_killed { " (killed)" } else { "" },
            if reader_killed { " (killed)" } else { "" },
        ))
    };
    if let ReaderEnd::Corrupt(what) = &reader {
        fail(format!("corrupt: {what}"));
    }
    if received > attempted {
        fail("more bytes received than were ever written".to_owned());
    }
    if shutdown || reader_killed {
        return;
    }
    match &reader {
        ReaderEnd::Failed(e) if !writer_killed => fail(format!("a read failed: {e}")),
        ReaderEnd::Running => fail("the reader's side returned, its reader did not".to_owned()),
        _ => {}
    }
    if writer_killed {
        return;
    }
    match &writer {
        WriterEnd::Done if received != dir.total => fail("bytes were lost".to_owned()),
        WriterEnd::Tainted if received < confirmed => {
            fail("bytes of completed writes were lost".to_owned())
        }
        WriterEnd::Failed(e) => fail(format!("a write failed: {e}")),
        WriterEnd::Running => fail("the writer's side returned, its writer did not".to_owned()),
        _ => {}
    }
}

/// Every connection a client made was accepted exactly once (not in a shutdown seed).
pub(crate) fn no_connection_lost(world: &World) {
    for conn in &world.conns {
        let accepted = conn.accepted.load(Ordering::SeqCst);
        if conn.kind != ConnKind::UnixPair && accepted != 1 {
            world.violation(format!(
                "{:?}#{} was accepted {accepted} times",
                conn.kind, conn.id
            ));
        }
    }
}

/// Every buffer was dropped exactly once and never written after its drop.
pub(crate) fn buffers_dropped_once_and_untouched(world: &World, report: &BufReport) {
    if report.double_drops > 0 {
        world.violation(format!(
            "{} buffer drops were double drops",
            report.double_drops
        ));
    }
    if !report.leaked.is_empty() {
        world.violation(format!(
            "{} of {} buffers were never dropped (ids {:?}...)",
            report.leaked.len(),
            report.created,
            &report.leaked[..report.leaked.len().min(10)]
        ));
    }
    for (id, offset) in &report.written_after_drop {
        world.violation(format!(
            "buffer {id} was written after its drop (byte {offset} is not poison)"
        ));
    }
}

/// Every task future was dropped exactly once.
pub(crate) fn futures_dropped_once(world: &World) {
    let (created, dropped) = (world.futures.created(), world.futures.dropped());
    if created != dropped {
        world.violation(format!(
            "{} of {created} task futures were not dropped",
            created - dropped
        ));
    }
}
