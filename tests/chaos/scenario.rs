//! The scenario of one seed, run inside the runtime: binds the listeners, spawns every task
//! (clients, acceptors, pair sides, sleepers, blockers, the monkey), then waits for the work
//! to finish, or, in a shutdown seed, returns early with everything in flight.

use crate::ops::Chaos;
use crate::plan::ConnKind;
use crate::streams::{acceptor, client, pair_side, Listener};
use crate::world::{Entry, Role, Stats, World};
use ringloop::net::{TcpListener, UnixListener, UnixStream};
use ringloop::TaskState;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the work of one seed may take before it counts as stuck.
pub(crate) const STUCK_AFTER: Duration = Duration::from_secs(20);

/// Runs the scenario; see the module docs.
pub(crate) async fn scenario(world: Arc<World>) {
    let stop_monkey = Arc::new(AtomicBool::new(false));
    if let Err(e) = start(&world, &stop_monkey) {
        return world.violation(format!("the scenario could not start: {e}"));
    }
    if let Some(after) = world.plan.shutdown_after {
        // The runtime is dropped with all of it in flight.
        ringloop::sleep(after).await.expect("a sleep in block_on");
        return;
    }
    if !wait_until(STUCK_AFTER, || world.all_done_but_the_monkey()).await {
        return world.violation(format!("stuck after {STUCK_AFTER:?}:\n{}", stuck(&world)));
    }
    stop_monkey.store(true, Ordering::SeqCst);
    let monkey_done = || world.entries().iter().all(|e| e.is_done());
    if !wait_until(STUCK_AFTER, monkey_done).await {
        return world.violation("the monkey did not stop".to_owned());
    }
    no_task_left(&world);
}

fn start(world: &Arc<World>, stop_monkey: &Arc<AtomicBool>) -> std::io::Result<()> {
    let plan = &world.plan;
    let tcp = TcpListener::bind("127.0.0.1:0")?;
    world.tcp_addr.set(tcp.local_addr()?).expect("bound once");
    let unix = UnixListener::bind(&world.unix_path)?;
    {
        let stop = stop_monkey.clone();
        let w = world.clone();
        world.spawn(Role::Monkey, |entry| monkey(w, entry, stop));
    }
    for n in 0..plan.sleepers as u64 {
        let w = world.clone();
        world.spawn(Role::Sleeper, |entry| sleeper(w, entry, n));
    }
    for n in 0..plan.blockers as u64 {
        let w = world.clone();
        world.spawn(Role::Blocker, |entry| blocker(w, entry, n));
    }
    let count = |kind| plan.conns.iter().filter(|c| c.kind == kind).count();
    let listeners = [
        (ConnKind::Tcp, Listener::Tcp(tcp)),
        (ConnKind::Unix, Listener::Unix(unix)),
    ];
    for (kind, listener) in listeners {
        let listener = Arc::new(listener);
        for (n, quota) in quotas(count(kind), plan.acceptors).into_iter().enumerate() {
            let (w, l) = (world.clone(), listener.clone());
            world.spawn(Role::Acceptor(kind), |entry| {
                acceptor(w, entry, l, quota, n as u64)
            });
        }
    }
    for (id, conn) in plan.conns.iter().enumerate() {
        if conn.kind == ConnKind::UnixPair {
            let (a, b) = UnixStream::pair()?;
            let w = world.clone();
            world.spawn(Role::Client(id), |entry| {
                entry.set_killable();
                pair_side(w, entry, a)
            });
            let w = world.clone();
            world.spawn(Role::Server(id), |entry| {
                entry.set_killable();
                pair_side(w, entry, b)
            });
        } else {
            let w = world.clone();
            world.spawn(Role::Client(id), |entry| client(w, entry, id));
        }
    }
    Ok(())
}

/// `total` split into `parts` shares that differ by one at most.
fn quotas(total: usize, parts: usize) -> Vec<usize> {
    (0..parts)
        .map(|i| total / parts + usize::from(i < total % parts))
        .collect()
}

/// Sleeps, with sleeps dropped early and polled by hostile wakers.
async fn sleeper(world: Arc<World>, entry: Arc<Entry>, n: u64) {
    let mut chaos = Chaos::new(&world, &entry.role(), n);
    for _ in 0..chaos.rng.range(5..40) {
        let duration = chaos.rng.micros(0..3000);
        chaos.sleep(duration).await;
    }
}

/// Blocks its worker in `std::thread::sleep` a few times: the other worker must steal its
/// queue and rescue its timers and I/O meanwhile.
async fn blocker(world: Arc<World>, entry: Arc<Entry>, n: u64) {
    let mut chaos = Chaos::new(&world, &entry.role(), n);
    for _ in 0..chaos.rng.range(2..8) {
        Stats::bump(&world.stats.blocks);
        std::thread::sleep(chaos.rng.micros(2_000..12_000));
        let duration = chaos.rng.micros(0..3000);
        chaos.sleep(duration).await;
    }
}

/// Cancels `plan.kills` random killable tasks, at random times, until stopped.
async fn monkey(world: Arc<World>, entry: Arc<Entry>, stop: Arc<AtomicBool>) {
    let mut rng = world.rng(&entry.role(), 0);
    let mut kills = 0;
    let gap = world.plan.kill_gap.as_micros() as usize + 1;
    while kills < world.plan.kills && !stop.load(Ordering::SeqCst) {
        ringloop::sleep(rng.micros(0..gap))
            .await
            .expect("a sleep in a task");
        if world.kill_one(&mut rng) {
            kills += 1;
        }
    }
}

/// Waits (sleeping 2 ms between looks) until `done`; false if `limit` passed first.
pub(crate) async fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        ringloop::sleep(Duration::from_millis(2))
            .await
            .expect("a sleep in block_on");
    }
    true
}

/// No task of ours is left in the runtime (`all_tasks()` lists the tasks not completed).
fn no_task_left(world: &World) {
    let left: Vec<_> = ringloop::all_tasks()
        .into_iter()
        .filter(|t| !matches!(t.state, TaskState::Complete | TaskState::Cancelled))
        .collect();
    if !left.is_empty() {
        world.violation(format!("tasks left after the work: {left:?}"));
    }
}

/// What is still running, for a stuck seed.
fn stuck(world: &World) -> String {
    let mut out = String::new();
    for entry in world.entries() {
        if !entry.is_done() {
            let doing = entry.doing.lock().unwrap().clone();
            out += &format!("  task {:?} is still running: {doing}\n", entry.role());
        }
    }
    for conn in &world.conns {
        if conn.kind != ConnKind::UnixPair && conn.accepted.load(Ordering::SeqCst) == 0 {
            out += &format!("  {:?}#{} was never accepted\n", conn.kind, conn.id);
        }
        for dir in [&conn.up, &conn.down] {
            out += &format!(
                "  {}: {} of {} bytes received, {} confirmed, {} attempted; writer {:?}, \
                 reader {:?}\n",
                dir.name,
                dir.received.load(Ordering::SeqCst),
                dir.total,
                dir.confirmed.load(Ordering::SeqCst),
                dir.attempted.load(Ordering::SeqCst),
                dir.writer_end(),
                dir.reader_end(),
            );
        }
    }
    out += &format!("  all_tasks(): {:?}\n", ringloop::all_tasks());
    out += &kernel_view();
    out
}

/// What the kernel holds, for a stuck seed: each ring's unsubmitted entries, unreaped
/// completions and armed polls (`/proc/self/fdinfo`; opcode 13 is an accept, 27 a receive,
/// 22 the wake-up read), and the listening sockets' queues (`rx_queue` of a `0A` line of
/// `/proc/net/tcp` is its backlog of connections not accepted yet).
fn kernel_view() -> String {
    let mut out = String::new();
    for fd in crate::io_support::open_fds() {
        let link = std::fs::read_link(format!("/proc/self/fd/{fd}")).unwrap_or_default();
        if !link.to_string_lossy().contains("io_uring") {
            continue;
        }
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap_or_default();
        let keep = |l: &&str| {
            l.starts_with("SQEs") || l.starts_with("CQEs") || l.trim_start().starts_with("op=")
        };
        let lines: Vec<_> = info.lines().filter(keep).map(str::trim).collect();
        out += &format!("  ring fd {fd}: {}\n", lines.join("; "));
    }
    let tcp = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    for line in tcp
        .lines()
        .filter(|l| l.split_whitespace().nth(3) == Some("0A"))
    {
        out += &format!("  listening: {}\n", line.trim());
    }
    out
}
