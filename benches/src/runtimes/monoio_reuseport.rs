//! monoio as it is deployed on several cores: N tuned monoio runtimes ([`MonoioRt::tuned`]),
//! one per thread, and an echo server with one accept loop per runtime, each on a listener
//! of its own on one shared port (`SO_REUSEPORT`: the kernel spreads new connections over
//! the listeners). A connection stays on the runtime that accepted it; no work moves
//! between threads.
//!
//! # Threads
//!
//! Runtime 0 runs on the thread that builds the [`MonoioReuseportRt`] and calls `block_on`
//! (a sample thread, confined to the server's CPUs before it builds the runtime). Runtimes
//! 1..N each run on a thread that [`MonoioReuseportRt::new`] starts from that thread, so they
//! inherit its confinement, and that lives as long as the [`MonoioReuseportRt`]: like the
//! worker threads of tokio and ringloop, they are made before a sample's first run and
//! serve all of its runs. Each builds its runtime, then runs the jobs it is sent, one at a
//! time, each in its runtime's `block_on`. Dropping the [`MonoioReuseportRt`] closes their
//! job channels and joins them.
//!
//! # One echo run ([`IoRt::serve_echo`])
//!
//! 1. [`IoRt::echo_listeners`] binds N listeners on one port, before the load generator
//!    connects.
//! 2. Runtime k > 0 is sent a job: its accept loop on listener k with an [`EchoServer`] of
//!    its own, then a wait until that server's tasks have ended. (A monoio runtime without
//!    its `sync` feature can only be woken from its own thread, so each runtime waits for
//!    its own tasks; they share nothing but the port.)
//! 3. Runtime 0 runs its accept loop on listener 0 with the caller's server, and `until`.
//! 4. Stopping: runtime 0 sets every server's stop flag, then connects to the port, once
//!    every [`WAKE_RETRY`] (sleeping on its timer, so its own accept loop runs meanwhile),
//!    until every accept loop has returned or its runtime has failed. The kernel hands each
//!    connection to one of the listeners still open, and a loop that returns closes its
//!    own, so a few connections wake them all. It gives up after [`STOP_TIMEOUT`].
//! 5. Runtime 0 waits for its own tasks; then the caller takes every other runtime's result.
//!
//! A panic in a job is caught on its thread and sent back as the job's result (an error);
//! the thread then ends, and stopping no longer waits for that runtime.
//!
//! The other workloads would run on runtime 0 alone; the suite does not run them here
//! (see [`RuntimeKind::MonoioReuseport`]).

use std::fmt;
use std::future::Future;
use std::io;
use std::iter;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use super::{IoRt, MonoioRt, Rt, RuntimeKind};
use crate::net::{EchoListeners, EchoServer};
use crate::runner::payload_message;

/// How long runtime 0 sleeps between two wake-up connections while stopping.
const WAKE_RETRY: Duration = Duration::from_millis(1);
/// How long stopping every accept loop may take before the run is failed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long runtime 0 waits for another runtime's result once the accept loops have
/// stopped (its connections end as soon as it reads that their clients closed them).
const RESULT_TIMEOUT: Duration = Duration::from_secs(10);

/// `N` tuned monoio runtimes, one per thread; see the module docs.
pub struct MonoioReuseportRt {
    first: MonoioRt,
    others: Vec<RuntimeThread>,
    accepted: Vec<usize>,
}

impl MonoioReuseportRt {
    /// `runtimes` (at least one) tuned monoio runtimes: the first for the calling thread,
    /// and a thread started from it for each other one.
    ///
    /// # Errors
    ///
    /// The first runtime or thread that could not be made.
    pub fn new(runtimes: usize) -> io::Result<Self> {
        let first = MonoioRt::tuned_as(RuntimeKind::MonoioReuseport)?;
        let others = (1..runtimes)
            .map(RuntimeThread::start)
            .collect::<io::Result<_>>()?;
        Ok(MonoioReuseportRt {
            first,
            others,
            accepted: Vec::new(),
        })
    }

    /// How many runtimes (and threads) it has.
    pub fn runtimes(&self) -> usize {
        1 + self.others.len()
    }

    /// The connections each runtime accepted in the last echo run, runtime 0 first (empty
    /// before the first); the wake-up connections that stopped it are not counted.
    pub fn accepted_per_runtime(&self) -> &[usize] {
        &self.accepted
    }
}

impl fmt::Debug for MonoioReuseportRt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MonoioReuseportRt")
            .field("runtimes", &self.runtimes())
            .field("accepted", &self.accepted)
            .finish_non_exhaustive()
    }
}

impl Rt for MonoioReuseportRt {
    fn block_on<F: Future>(&mut self, fut: F) -> F::Output {
        self.first.block_on(fut)
    }

    fn spawn<F>(fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        MonoioRt::spawn(fut);
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        MonoioRt::yield_now()
    }
}

impl IoRt for MonoioReuseportRt {
    fn sleep(duration: Duration) -> impl Future<Output = ()> {
        MonoioRt::sleep(duration)
    }

    fn spawn_sleeper<F>(duration: Duration, woke: F)
    where
        F: FnOnce(Duration) + Send + 'static,
    {
        MonoioRt::spawn_sleeper(duration, woke);
    }

    /// One accept loop on the runtime that calls it; [`IoRt::serve_echo`] runs one on each.
    fn spawn_echo_server(listener: TcpListener, server: Arc<EchoServer>) {
        MonoioRt::spawn_echo_server(listener, server);
    }

    fn echo_listeners(&self) -> io::Result<EchoListeners> {
        EchoListeners::sharing_a_port(self.runtimes())
    }

    fn serve_echo<F: Future<Output = ()>>(
        &mut self,
        listeners: EchoListeners,
        server: &Arc<EchoServer>,
        until: F,
    ) -> Result<(), String> {
        let addr = listeners.addr();
        let (first, more) = listeners.split_first();
        if more.len() != self.others.len() {
            return Err(format!(
                "{} runtimes cannot serve {} listeners",
                self.runtimes(),
                more.len() + 1
            ));
        }
        let servers: Vec<Arc<EchoServer>> = more.iter().map(|_| server.alike()).collect();
        let results: Vec<_> = self
            .others
            .iter()
            .zip(more)
            .zip(&servers)
            .map(|((runtime, listener), server)| runtime.serve(listener, server.clone()))
            .collect();
        let others = &self.others;
        let stopped = self.first.block_on(async {
            MonoioRt::spawn_echo_server(first, server.clone());
            until.await;
            // Without every accept loop stopped, its tasks would not end: no wait then.
            stop_accept_loops(server, &servers, others, addr).await?;
            server.finished().await
        });
        let mut outcome = stopped;
        for (runtime, result) in self.others.iter().zip(results) {
            let result = result.and_then(|result| runtime.wait_for(&result));
            outcome = outcome.and(result);
        }
        self.accepted = iter::once(server)
            .chain(&servers)
            .map(|server| server.connections())
            .collect();
        outcome
    }
}

/// Step 4 of the module docs: stops the accept loop of `first` (runtime 0's, on this
/// thread) and of each of `others` (on the runtimes of `threads`), all listening at `addr`.
async fn stop_accept_loops(
    first: &EchoServer,
    others: &[Arc<EchoServer>],
    threads: &[RuntimeThread],
    addr: SocketAddr,
) -> Result<(), String> {
    first.request_stop();
    for server in others {
        server.request_stop();
    }
    let running = || {
        !first.accept_loop_ended()
            || others
                .iter()
                .zip(threads)
                .any(|(server, thread)| !server.accept_loop_ended() && thread.is_alive())
    };
    let deadline = Instant::now() + STOP_TIMEOUT;
    while running() {
        if Instant::now() >= deadline {
            return Err(format!(
                "monoio-reuseport: not every accept loop stopped within {STOP_TIMEOUT:?}"
            ));
        }
        // Closed at once: the accept loop takes it from the backlog all the same.
        TcpStream::connect(addr)
            .map_err(|e| format!("could not connect to stop the server: {e}"))?;
        MonoioRt::sleep(WAKE_RETRY).await;
    }
    Ok(())
}

/// A job for a runtime's thread; it returns whether the runtime is still usable (not after
/// a panic in it, which may have left it half-way through a poll).
type Job = Box<dyn FnOnce(&mut MonoioRt) -> bool + Send>;

/// Where a job of [`RuntimeThread::run`] sends its result: what it returned, or its panic.
type Reply<T> = mpsc::Receiver<Result<T, String>>;

/// One of runtimes 1..N: a tuned monoio runtime on a thread of its own, running the jobs it
/// is sent.
struct RuntimeThread {
    index: usize,
    /// `None` only while dropping.
    jobs: Option<mpsc::Sender<Job>>,
    /// `None` only while dropping.
    thread: Option<JoinHandle<()>>,
    /// Cleared when a job panicked: the thread then ends.
    alive: Arc<AtomicBool>,
}

impl RuntimeThread {
    /// Starts runtime `index`'s thread; returns once its runtime is built.
    fn start(index: usize) -> io::Result<Self> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (built, is_built) = mpsc::channel();
        let thread = thread::Builder::new()
            .name(format!("monoio-reuseport-{index}"))
            .spawn(move || {
                let mut rt = match MonoioRt::tuned_as(RuntimeKind::MonoioReuseport) {
                    Ok(rt) => rt,
                    Err(error) => {
                        let _ = built.send(Err(error));
                        return;
                    }
                };
                let _ = built.send(Ok(()));
                for job in inbox {
                    if !job(&mut rt) {
                        break;
                    }
                }
            })?;
        let runtime = RuntimeThread {
            index,
            jobs: Some(jobs),
            thread: Some(thread),
            alive: Arc::new(AtomicBool::new(true)),
        };
        match is_built.recv() {
            Ok(Ok(())) => Ok(runtime),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(io::Error::other(format!(
                "monoio-reuseport runtime {index}'s thread ended while building it"
            ))),
        }
    }

    /// Runs `job` on the runtime's thread; the receiver gets what it returns, or the panic
    /// that ended it (after which the thread ends).
    fn run<T, J>(&self, job: J) -> Result<Reply<T>, String>
    where
        T: Send + 'static,
        J: FnOnce(&mut MonoioRt) -> T + Send + 'static,
    {
        let (reply, result) = mpsc::channel();
        let (index, alive) = (self.index, self.alive.clone());
        let job: Job = Box::new(move |rt| {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| job(rt))).map_err(|payload| {
                // Before the reply, so that stopping no longer waits for this runtime.
                alive.store(false, Ordering::Release);
                format!(
                    "monoio-reuseport runtime {index} panicked: {}",
                    payload_message(&*payload)
                )
            });
            let usable = outcome.is_ok();
            let _ = reply.send(outcome);
            usable
        });
        let sent = self
            .jobs
            .as_ref()
            .is_some_and(|jobs| jobs.send(job).is_ok());
        if !sent {
            return Err(format!(
                "monoio-reuseport runtime {}'s thread has ended",
                self.index
            ));
        }
        Ok(result)
    }

    /// Step 2 of the module docs: the receiver gets the server's result once its accept
    /// loop has returned and its connections have ended.
    fn serve(
        &self,
        listener: TcpListener,
        server: Arc<EchoServer>,
    ) -> Result<Reply<Result<(), String>>, String> {
        self.run(move |rt| {
            rt.block_on(async {
                MonoioRt::spawn_echo_server(listener, server.clone());
                server.finished().await
            })
        })
    }

    /// Waits for the result of a job of [`RuntimeThread::serve`], [`RESULT_TIMEOUT`] at most.
    fn wait_for(&self, result: &Reply<Result<(), String>>) -> Result<(), String> {
        match result.recv_timeout(RESULT_TIMEOUT) {
            Ok(outcome) => outcome.and_then(|served| served),
            Err(RecvTimeoutError::Disconnected) => Err(format!(
                "monoio-reuseport runtime {}'s thread ended without a result",
                self.index
            )),
            Err(RecvTimeoutError::Timeout) => Err(format!(
                "monoio-reuseport runtime {} did not finish its echo server within \
                 {RESULT_TIMEOUT:?}",
                self.index
            )),
        }
    }

    /// Whether its thread still runs jobs.
    fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire) && self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }
}

impl Drop for RuntimeThread {
    /// Closes the job channel, so the thread ends after its current job, and joins it.
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            // A panic was reported as the result of its job.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workloads::{all_workloads, Phase, Scale};
    use crate::AnyRuntime;

    /// Runs `f` on a thread of its own and returns what it returns, failing the test if it
    /// takes longer than `limit` (a hang) rather than hanging the test run.
    fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, result) = mpsc::channel();
        thread::spawn(move || {
            let _ = done.send(f());
        });
        result
            .recv_timeout(limit)
            .unwrap_or_else(|e| panic!("did not finish within {limit:?}: {e}"))
    }

    /// `tcp_echo_64_oversubscribed`'s warm-up run, twice, on 2 runtimes: the connections
    /// reach both listeners, every run stops, and so does the runtime when dropped.
    #[test]
    fn both_runtimes_accept_connections_and_stop() {
        let accepted = within(Duration::from_secs(60), || {
            let workload = all_workloads(Scale::Quick)
                .into_iter()
                .find(|w| w.name() == "tcp_echo_64_oversubscribed")
                .expect("the row is in the suite");
            let mut rt = RuntimeKind::MonoioReuseport.build(2).expect("builds");
            assert_eq!(rt.workers(), 2);
            let mut accepted = Vec::new();
            for _ in 0..2 {
                let sample = workload.run(&mut rt, Phase::WarmUp).expect("the run works");
                assert!(sample.value > 0.0, "{sample:?}");
                let AnyRuntime::MonoioReuseport(reuseport) = &rt else {
                    unreachable!("built as monoio-reuseport")
                };
                accepted.push(reuseport.accepted_per_runtime().to_vec());
            }
            drop(rt);
            accepted
        });
        for run in accepted {
            assert_eq!(run.len(), 2);
            assert!(
                run.iter().all(|&n| n > 0),
                "a runtime accepted nothing: {run:?}"
            );
            // The row's 100 connections; the wake-up connections are not counted.
            assert_eq!(run.iter().sum::<usize>(), 100, "{run:?}");
        }
    }

    /// A panic on another runtime's thread comes back as an error naming it, and the
    /// thread is then gone, without a hang.
    #[test]
    fn a_panicking_runtime_is_an_error() {
        within(Duration::from_secs(10), || {
            let runtime = RuntimeThread::start(1).expect("starts");
            let reply = runtime.run(|_| -> () { panic!("deliberate") }).unwrap();
            let error = reply.recv().expect("a result").unwrap_err();
            assert!(error.contains("runtime 1 panicked: deliberate"), "{error}");
            assert!(!runtime.is_alive());
            let gone = runtime
                .run(|_| ())
                .and_then(|reply| reply.recv().map_err(|e| e.to_string()));
            assert!(gone.is_err(), "{gone:?}");
        });
    }

    /// The other runtimes run on threads of their own, confined to the CPUs of the thread
    /// that built them.
    #[test]
    fn other_runtimes_inherit_the_builders_confinement() {
        within(Duration::from_secs(10), || {
            let cpu = *crate::os::process_cpus().first().expect("some CPU");
            assert!(crate::os::confine_to(&[cpu]));
            let rt = MonoioReuseportRt::new(3).expect("builds");
            let here = thread::current().id();
            for runtime in &rt.others {
                let reply = runtime
                    .run(|_| (thread::current().id(), crate::os::thread_cpus()))
                    .unwrap();
                let (there, cpus) = reply.recv().unwrap().unwrap();
                assert_ne!(there, here);
                assert_eq!(cpus, [cpu]);
            }
        });
    }
}
