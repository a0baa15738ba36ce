//! [`Plan`]: everything a seed decides up front: the runtime flavour's share of the work,
//! the connections and how much each direction carries, which tasks panic, how often ops are
//! dropped or polled with hostile wakers, and whether the runtime is shut down mid-flight.
//!
//! Only the plan is deterministic: the interleaving of tasks, timers and completions is not,
//! so a seed replays the same *scenario*, and a failure usually shows again within a few runs
//! of it (`--seed N --repeat 50`).

use crate::rng::Rng;
use std::time::Duration;

/// The runtime flavours the chaos runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// One thread, asyncio's model.
    Single,
    /// Two workers, stealing from each other.
    Multi,
}

impl Flavor {
    pub(crate) const ALL: [Flavor; 2] = [Flavor::Single, Flavor::Multi];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Flavor::Single => "single",
            Flavor::Multi => "multi",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Flavor> {
        Flavor::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// What `--without` can turn off.
pub(crate) const WITHOUT: &str = "drop_read, drop_write, drop_accept, hostile, armed, block, \
                                  sleep, partial_write, tiny_read, kills, panics, shutdown, \
                                  concurrent_accepts";

/// What `--with` can turn on.
pub(crate) const WITH: &str = "concurrent_accepts";

/// The kind of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnKind {
    /// Connected to the TCP listener, accepted by its acceptor.
    Tcp,
    /// Connected to the Unix listener's path, accepted by its acceptor.
    Unix,
    /// A `UnixStream::pair()`: no accept.
    UnixPair,
}

/// One connection's plan.
#[derive(Clone, Debug)]
pub(crate) struct ConnPlan {
    pub(crate) kind: ConnKind,
    /// Bytes the client writes (after its header), and the server writes.
    pub(crate) up_bytes: usize,
    pub(crate) down_bytes: usize,
    /// After how many of its loop steps each side panics, if it does.
    pub(crate) client_panics_at: Option<usize>,
    pub(crate) server_panics_at: Option<usize>,
}

/// How often things happen to an op: "one in N" (0: never).
#[derive(Clone, Debug)]
pub(crate) struct Odds {
    /// A read (or accept, or sleep) raced against a short timeout that may drop it.
    pub(crate) drop_read: usize,
    /// A write raced against a short timeout; dropped, it taints its stream.
    pub(crate) drop_write: usize,
    pub(crate) drop_accept: usize,
    /// An op polled through a [`crate::hostile::Hostile`] waker.
    pub(crate) hostile: usize,
    /// A buffer that panics when the driver drops it.
    pub(crate) armed_buffer: usize,
    /// A side task's step that blocks its thread for a few milliseconds.
    pub(crate) block: usize,
    /// A step that sleeps a little.
    pub(crate) sleep: usize,
    /// A write that uses `write` (maybe partial) rather than `write_all`.
    pub(crate) partial_write: usize,
    /// A read with a tiny buffer (1 to 16 bytes), which leftovers serve in pieces.
    pub(crate) tiny_read: usize,
}

/// Everything one seed decides; see the module docs.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) seed: u64,
    pub(crate) conns: Vec<ConnPlan>,
    pub(crate) odds: Odds,
    /// Tasks accepting from each listener at once, each its share of the connections (then
    /// a dropped accept's connection may go to another of them, and several may wait on the
    /// listener's leftovers): one to three; `--without concurrent_accepts` makes it one,
    /// `--with concurrent_accepts` two or three (see "Concurrent accepts" in the module docs of
    /// `chaos.rs`).
    pub(crate) acceptors: usize,
    /// Tasks that only sleep (with timeouts and hostile wakers), killable any time.
    pub(crate) sleepers: usize,
    /// Tasks that block their worker in `std::thread::sleep` (two workers only).
    pub(crate) blockers: usize,
    /// How many tasks the monkey cancels, and the longest it waits between two.
    pub(crate) kills: usize,
    pub(crate) kill_gap: Duration,
    /// If set, the runtime is dropped this long after the start, with the work in flight.
    pub(crate) shutdown_after: Option<Duration>,
    rng: Rng,
}

impl Plan {
    pub(crate) fn new(seed: u64, flavor: Flavor) -> Plan {
        let mut rng = Rng::new(seed);
        let conns = (0..rng.range(4..13)).map(|_| conn_plan(&mut rng)).collect();
        let odds = Odds {
            drop_read: rng.range(2..8),
            drop_write: rng.range(10..60),
            drop_accept: rng.range(1..4),
            hostile: rng.range(3..12),
            armed_buffer: rng.range(3..10),
            block: if flavor == Flavor::Multi {
                rng.range(20..80)
            } else {
                0
            },
            sleep: rng.range(8..30),
            partial_write: rng.range(2..6),
            tiny_read: rng.range(6..20),
        };
        // Its own stream, so that the rest of the plan is what it was when this was fixed at 1.
        let acceptors = rng.fork(7 << 40).range(1..4);
        let sleepers = rng.range(1..5);
        let blockers = if flavor == Flavor::Multi {
            rng.range(1..3)
        } else {
            0
        };
        let kills = rng.range(0..5);
        let kill_gap = rng.micros(1_000..30_000);
        // Every fourth seed: a known share, so the default run covers it.
        let shutdown_after = (seed % 4 == 3).then(|| rng.micros(2_000..150_000));
        Plan {
            seed,
            conns,
            odds,
            acceptors,
            sleepers,
            blockers,
            kills,
            kill_gap,
            shutdown_after,
            rng,
        }
    }

    /// Turns off one kind of chaos (`--without NAME`), to narrow a failure down.
    pub(crate) fn without(&mut self, name: &str) -> Result<(), String> {
        let odds = &mut self.odds;
        match name {
            "drop_read" => odds.drop_read = 0,
            "drop_write" => odds.drop_write = 0,
            "drop_accept" => odds.drop_accept = 0,
            "hostile" => odds.hostile = 0,
            "armed" => odds.armed_buffer = 0,
            "block" => {
                odds.block = 0;
                self.blockers = 0;
            }
            "sleep" => {
                odds.sleep = 0;
                self.sleepers = 0;
            }
            "partial_write" => odds.partial_write = 0,
            "tiny_read" => odds.tiny_read = 0,
            "kills" => self.kills = 0,
            "panics" => {
                for conn in &mut self.conns {
                    conn.client_panics_at = None;
                    conn.server_panics_at = None;
                }
            }
            "shutdown" => self.shutdown_after = None,
            "concurrent_accepts" => self.acceptors = 1,
            _ => return Err(format!("no chaos named {name}; one of {WITHOUT}")),
        }
        Ok(())
    }

    /// Turns on a kind of chaos that is off by default (`--with NAME`).
    pub(crate) fn with(&mut self, name: &str) -> Result<(), String> {
        match name {
            "concurrent_accepts" => self.acceptors = self.rng(7 << 40).range(2..4),
            _ => return Err(format!("no chaos named {name}; one of {WITH}")),
        }
        Ok(())
    }

    /// The generator of the part of the plan named `stream`.
    pub(crate) fn rng(&self, stream: u64) -> Rng {
        self.rng.fork(stream)
    }
}

fn conn_plan(rng: &mut Rng) -> ConnPlan {
    let kind = *rng.pick(&[
        ConnKind::Tcp,
        ConnKind::Tcp,
        ConnKind::Unix,
        ConnKind::UnixPair,
    ]);
    let bytes = |rng: &mut Rng| match rng.range(0..10) {
        0 => 0,
        1 => rng.range(256 * 1024..768 * 1024),
        _ => rng.range(1..96 * 1024),
    };
    let up_bytes = bytes(rng);
    let down_bytes = bytes(rng);
    let panics = |rng: &mut Rng| rng.one_in(10).then(|| rng.range(0..60));
    ConnPlan {
        kind,
        up_bytes,
        down_bytes,
        client_panics_at: panics(rng),
        server_panics_at: panics(rng),
    }
}
