//! [`World`]: what the tasks of one seed share: the plan, the buffer pool, the books of every
//! connection, the registry of every task spawned (for the monkey to cancel, and for the end
//! to join), the counters, and the violations found on the way.

use crate::plan::{ConnKind, Plan};
use crate::poison_buf::BufPool;
use crate::rng::{mix, Rng};
use crate::support::counting::Counters;
use ringloop::{Task, TaskBuilder};
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::sync::{Arc, Mutex};

/// See the module docs.
pub(crate) struct World {
    pub(crate) plan: Plan,
    pub(crate) pool: BufPool,
    pub(crate) conns: Vec<Conn>,
    pub(crate) stats: Stats,
    /// Where the clients connect.
    pub(crate) tcp_addr: OnceLock<SocketAddr>,
    pub(crate) unix_path: PathBuf,
    /// The futures of every task, counted, so that each is seen dropped exactly once.
    pub(crate) futures: Counters,
    registry: Mutex<Vec<Arc<Entry>>>,
    violations: Mutex<Vec<String>>,
    /// Set when the runtime starts being dropped: its tasks may then see their ops fail (a
    /// timer completed with an error by its driver's shutdown) before they are cancelled.
    pub(crate) dropping: AtomicBool,
    /// The last op scope handed out.
    scopes: AtomicU64,
    /// What happened, to print with a failure.
    notes: Mutex<Vec<String>>,
}

/// What happened, counted (printed with `--verbose`, and a sanity check that the chaos ran).
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) dropped_reads: AtomicUsize,
    pub(crate) dropped_writes: AtomicUsize,
    pub(crate) dropped_accepts: AtomicUsize,
    pub(crate) dropped_sleeps: AtomicUsize,
    pub(crate) hostile_ops: AtomicUsize,
    pub(crate) waker_panics: Arc<AtomicUsize>,
    pub(crate) planned_panics: AtomicUsize,
    pub(crate) blocks: AtomicUsize,
    pub(crate) kills: AtomicUsize,
    pub(crate) bytes_received: AtomicUsize,
}

impl Stats {
    pub(crate) fn bump(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |c: &AtomicUsize| c.load(Ordering::SeqCst);
        write!(
            f,
            "{} KiB received; dropped {} reads, {} writes, {} accepts, {} sleeps; {} hostile \
             ops, {} waker panics, {} planned panics, {} blocks, {} kills",
            n(&self.bytes_received) / 1024,
            n(&self.dropped_reads),
            n(&self.dropped_writes),
            n(&self.dropped_accepts),
            n(&self.dropped_sleeps),
            n(&self.hostile_ops),
            n(&self.waker_panics),
            n(&self.planned_panics),
            n(&self.blocks),
            n(&self.kills),
        )
    }
}

/// One connection: two directions, two sides.
pub(crate) struct Conn {
    pub(crate) id: usize,
    pub(crate) kind: ConnKind,
    /// Client to server, and server to client.
    pub(crate) up: Direction,
    pub(crate) down: Direction,
    /// How many times a server side read this connection's header (must end as 1).
    pub(crate) accepted: AtomicUsize,
}

/// One direction of a connection: what its writer attempted and confirmed, and what its
/// reader received (always checked against the deterministic sequence as it arrives).
pub(crate) struct Direction {
    pub(crate) name: String,
    /// Names the byte sequence: byte `i` is `stream_byte(key, i)`.
    pub(crate) key: u64,
    pub(crate) total: usize,
    /// Bytes the writer's completed writes sent.
    pub(crate) confirmed: AtomicUsize,
    /// `confirmed` plus the length of the write in flight, if any: more cannot have been sent.
    pub(crate) attempted: AtomicUsize,
    pub(crate) writer: Mutex<WriterEnd>,
    pub(crate) received: AtomicUsize,
    pub(crate) reader: Mutex<ReaderEnd>,
}

/// How a direction's writer ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WriterEnd {
    /// Still writing, or its task was cancelled or panicked.
    Running,
    /// Wrote every byte and shut down its writing side.
    Done,
    /// A write was dropped in flight: it stopped writing and shut down its writing side.
    Tainted,
    /// A write or the shutdown failed.
    Failed(String),
}

/// How a direction's reader ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ReaderEnd {
    Running,
    /// Read to the end of the stream.
    Eof,
    Failed(String),
    /// Received a byte that is not the sequence's next one.
    Corrupt(String),
}

impl Direction {
    fn new(name: String, key: u64, total: usize) -> Direction {
        Direction {
            name,
            key,
            total,
            confirmed: AtomicUsize::new(0),
            attempted: AtomicUsize::new(0),
            writer: Mutex::new(WriterEnd::Running),
            received: AtomicUsize::new(0),
            reader: Mutex::new(ReaderEnd::Running),
        }
    }

    pub(crate) fn writer_end(&self) -> WriterEnd {
        self.writer.lock().unwrap().clone()
    }

    pub(crate) fn reader_end(&self) -> ReaderEnd {
        self.reader.lock().unwrap().clone()
    }
}

/// What a task of the registry is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    Client(usize),
    Server(usize),
    Acceptor(ConnKind),
    Sleeper,
    Blocker,
    Monkey,
}

/// A task of the registry.
pub(crate) struct Entry {
    /// A server side learns its connection from the header it reads.
    role: Mutex<Role>,
    /// Taken by the end of the seed, to join it.
    task: Mutex<Option<Task<()>>>,
    /// The monkey may cancel it (a side task, once its handshake is done).
    killable: AtomicBool,
    /// The monkey cancelled it.
    pub(crate) cancelled: AtomicBool,
    /// What it is doing: the op it waits for, and how (for a stuck seed's report).
    pub(crate) doing: Mutex<String>,
}

impl Entry {
    pub(crate) fn role(&self) -> Role {
        self.role.lock().unwrap().clone()
    }

    pub(crate) fn set_role(&self, role: Role) {
        *self.role.lock().unwrap() = role;
    }

    pub(crate) fn set_killable(&self) {
        self.killable.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_done(&self) -> bool {
        let task = self.task.lock().unwrap();
        task.as_ref().is_none_or(Task::is_done)
    }

    pub(crate) fn take_task(&self) -> Option<Task<()>> {
        self.task.lock().unwrap().take()
    }
}

/// How a task of the registry ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Returned,
    Cancelled,
    Panicked(String),
}

impl World {
    pub(crate) fn new(plan: Plan, pool: BufPool, futures: Counters, unix_path: PathBuf) -> World {
        let conns = plan
            .conns
            .iter()
            .enumerate()
            .map(|(id, c)| {
                let key = |dir: u64| mix(plan.seed ^ mix((id as u64) << 1 | dir));
                let name = |arrow: &str| format!("{:?}#{id} {arrow}", c.kind);
                Conn {
                    id,
                    kind: c.kind,
                    up: Direction::new(name("client->server"), key(0), c.up_bytes),
                    down: Direction::new(name("server->client"), key(1), c.down_bytes),
                    accepted: AtomicUsize::new(0),
                }
            })
            .collect();
        World {
            plan,
            pool,
            conns,
            stats: Stats::default(),
            tcp_addr: OnceLock::new(),
            unix_path,
            futures,
            registry: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            notes: Mutex::new(Vec::new()),
            scopes: AtomicU64::new(0),
            dropping: AtomicBool::new(false),
        }
    }

    /// Records a broken guarantee (the seed fails).
    pub(crate) fn violation(&self, what: String) {
        self.violations.lock().unwrap().push(what);
    }

    /// Records an error a task saw: a broken guarantee, unless the runtime is being dropped
    /// (then it is noted).
    pub(crate) fn failed(&self, what: String) {
        if self.dropping.load(Ordering::SeqCst) {
            self.note(format!("while the runtime was dropped: {what}"));
        } else {
            self.violation(what);
        }
    }

    /// A new op scope ([`crate::scope`]).
    pub(crate) fn next_scope(&self) -> crate::scope::ScopeId {
        self.scopes.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Records what happened, for the report of a failure.
    pub(crate) fn note(&self, what: String) {
        self.notes.lock().unwrap().push(what);
    }

    pub(crate) fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap().clone()
    }

    pub(crate) fn violations(&self) -> Vec<String> {
        self.violations.lock().unwrap().clone()
    }

    /// A generator for one task, from the plan.
    pub(crate) fn rng(&self, role: &Role, n: u64) -> Rng {
        let tag = match role {
            Role::Client(id) => 1 << 40 | *id as u64,
            Role::Server(id) => 2 << 40 | *id as u64,
            Role::Acceptor(kind) => 3 << 40 | *kind as u64,
            Role::Sleeper => 4 << 40,
            Role::Blocker => 5 << 40,
            Role::Monkey => 6 << 40,
        };
        self.plan.rng(tag ^ n << 20)
    }

    /// Spawns `make(entry)` as a task in the registry; its future is counted.
    pub(crate) fn spawn<F>(&self, role: Role, make: impl FnOnce(Arc<Entry>) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let entry = Arc::new(Entry {
            role: Mutex::new(role.clone()),
            task: Mutex::new(None),
            killable: AtomicBool::new(matches!(role, Role::Sleeper | Role::Blocker)),
            cancelled: AtomicBool::new(false),
            doing: Mutex::new(String::new()),
        });
        let future = self.futures.track(make(entry.clone()));
        let name = format!("chaos {role:?}");
        let task = TaskBuilder::new().name(name).spawn(future);
        *entry.task.lock().unwrap() = Some(task);
        self.registry.lock().unwrap().push(entry);
    }

    /// Every task spawned so far.
    pub(crate) fn entries(&self) -> Vec<Arc<Entry>> {
        self.registry.lock().unwrap().clone()
    }

    /// Whether every task but the monkey is done (then nothing spawns any more: a task
    /// registers what it spawns before it ends).
    pub(crate) fn all_done_but_the_monkey(&self) -> bool {
        let registry = self.registry.lock().unwrap();
        registry
            .iter()
            .filter(|e| e.role() != Role::Monkey)
            .all(|e| e.is_done())
    }

    /// Cancels a random killable task that is still running; false if there is none.
    pub(crate) fn kill_one(&self, rng: &mut Rng) -> bool {
        let candidates: Vec<_> = self
            .entries()
            .into_iter()
            .filter(|e| e.killable.load(Ordering::SeqCst) && !e.is_done())
            .collect();
        if candidates.is_empty() {
            return false;
        }
        let victim = rng.pick(&candidates);
        victim.cancelled.store(true, Ordering::SeqCst);
        let task = victim.task.lock().unwrap();
        if let Some(task) = task.as_ref() {
            task.cancel();
        }
        Stats::bump(&self.stats.kills);
        true
    }
}
