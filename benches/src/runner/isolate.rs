//! One sample on its own thread, with its own runtime, under a deadline.
//!
//! The sample thread builds the runtime, runs one warm-up iteration, then the timed
//! iterations (averaged into one sample), sends the sample, drops the runtime and exits.
//! The runner waits for the sample until the deadline; a panic anywhere (caught on the
//! sample thread, or seen by the panic hook on a runtime's worker) fails the sample early.
//! It then waits a little for the runtime to shut down, so the next sample starts on a
//! quiet machine; a runtime that does not shut down is reported as a warning. A thread
//! that hangs is left behind (it cannot be killed); its cell is failed and later samples
//! carry on.

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use super::{panic_log, warnings, Placement};
use crate::runtimes::RuntimeKind;
use crate::workloads::{Phase, Sample, Workload};

/// How long a stalled sample may go on after a panic was seen on another thread.
const PANIC_GRACE: Duration = Duration::from_secs(2);
/// How long a runtime may take to shut down after its sample.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How often the runner checks the panic log while waiting.
const POLL: Duration = Duration::from_millis(20);

/// The result of one isolated sample.
pub(super) struct Run {
    pub(super) result: Result<Sample, String>,
    pub(super) warnings: Vec<String>,
}

enum Message {
    Sample(Result<Sample, String>),
    ShutDown,
}

/// Runs one sample of `workload` on a fresh `kind` runtime; see the module docs.
pub(super) fn run_sample(
    workload: &Arc<dyn Workload>,
    kind: RuntimeKind,
    placement: &Placement,
    timeout: Duration,
) -> Run {
    let (tx, rx) = mpsc::channel();
    let panics_before = panic_log::count();
    let workload = workload.clone();
    let placement = placement.clone();
    let spawned = thread::Builder::new()
        .name(format!("{}{kind}", panic_log::SAMPLE_THREAD_PREFIX))
        .spawn(move || sample_thread(&*workload, kind, &placement, &tx));
    if let Err(e) = spawned {
        return Run {
            result: Err(format!("could not start a sample thread: {e}")),
            warnings: Vec::new(),
        };
    }
    let result = wait_for_sample(&rx, panics_before, timeout);
    // The sample thread raises its warnings before it sends the sample.
    let mut warnings = warnings::take();
    let shutdown = match &result {
        Ok(_) => match rx.recv_timeout(SHUTDOWN_GRACE) {
            Ok(Message::ShutDown) => None,
            Ok(Message::Sample(Ok(_))) => unreachable!("one sample per thread"),
            Ok(Message::Sample(Err(e))) => Some(format!("the runtime failed to shut down: {e}")),
            Err(_) => Some(format!(
                "the runtime did not shut down within {SHUTDOWN_GRACE:?} after a sample"
            )),
        },
        // The thread is stuck or gone; nothing more to wait for.
        Err(_) => None,
    };
    warnings.extend(shutdown);
    Run { result, warnings }
}

fn wait_for_sample(
    rx: &mpsc::Receiver<Message>,
    panics_before: usize,
    timeout: Duration,
) -> Result<Sample, String> {
    let deadline = Instant::now() + timeout;
    let mut panic_seen_at = None;
    loop {
        match rx.recv_timeout(POLL) {
            Ok(Message::Sample(result)) => return result,
            Ok(Message::ShutDown) => unreachable!("the sample comes before the shutdown"),
            Err(RecvTimeoutError::Disconnected) => {
                return Err("the sample thread exited without a result".to_owned())
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = Instant::now();
        let panic = panic_log::since(panics_before);
        if let Some(message) = &panic {
            let seen = *panic_seen_at.get_or_insert(now);
            if now - seen >= PANIC_GRACE {
                return Err(format!("stalled after a panic: {message}"));
            }
        }
        if now >= deadline {
            let cause = panic.map(|m| format!(" (after {m})")).unwrap_or_default();
            return Err(format!("timed out after {timeout:?}{cause}"));
        }
    }
}

fn sample_thread(
    workload: &dyn Workload,
    kind: RuntimeKind,
    placement: &Placement,
    tx: &mpsc::Sender<Message>,
) {
    let panics_before = panic_log::count();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        // Before the runtime starts its threads, which inherit the confinement.
        if !placement.confine_server() {
            warnings::warn(format!(
                "could not confine the server to {}; it ran on every CPU",
                placement.describe()
            ));
        }
        let built = if workload.tokio_without_io() {
            kind.build_without_tokio_io(placement.workers)
        } else {
            kind.build(placement.workers)
        };
        let mut rt = built.map_err(|e| format!("the runtime failed to build: {e}"))?;
        let sample = measure(workload, &mut rt);
        // Report before shutting down, so a hanging shutdown cannot lose the figure.
        let _ = tx.send(Message::Sample(sample));
        drop(rt);
        Ok(())
    }));
    match caught {
        Ok(Ok(())) => {
            let _ = tx.send(Message::ShutDown);
        }
        Ok(Err(error)) => {
            let _ = tx.send(Message::Sample(Err(error)));
        }
        Err(payload) => {
            // The hook's record names the thread and location; the payload only the text.
            let message = panic_log::since(panics_before)
                .unwrap_or_else(|| panic_log::payload_message(&*payload));
            let _ = tx.send(Message::Sample(Err(message)));
        }
    }
}

/// One warm-up iteration, then the mean of the workload's timed iterations.
fn measure(workload: &dyn Workload, rt: &mut crate::AnyRuntime) -> Result<Sample, String> {
    workload.run(rt, Phase::WarmUp)?;
    let iterations = workload.iterations().max(1);
    let mut total = workload.run(rt, Phase::Measure)?;
    for _ in 1..iterations {
        let sample = workload.run(rt, Phase::Measure)?;
        total.value += sample.value;
        for ((_, sum), (_, value)) in total.extras.iter_mut().zip(sample.extras) {
            *sum += value;
        }
    }
    let n = iterations as f64;
    total.value /= n;
    for (_, sum) in &mut total.extras {
        *sum /= n;
    }
    Ok(total)
}
