//! ringloop's benchmark suite: the same workloads on ringloop, tokio and monoio.
//!
//! The suite runs every [`Workload`] on every [`RuntimeKind`] it applies to:
//! ringloop multi-threaded and single-threaded, tokio `multi_thread` and `current_thread`,
//! and monoio on its io_uring driver (one runtime, and, for the echo servers, one runtime per
//! thread sharing a port). Workload code is written once, generic over the
//! [`Rt`] trait, so each runtime runs the same monomorphised code; the only primitives
//! shared between tasks ([`Latch`], [`oneshot`]) are our own and identical for every
//! runtime.
//!
//! The binary `ringloop-bench` runs the suite with interleaved repetitions and writes a
//! report; `cargo bench -p ringloop-bench` runs the same workloads under criterion.
//!
//! # Examples
//!
//! ```
//! use ringloop_bench::{all_workloads, Phase, RuntimeKind, Scale};
//!
//! let ping_pong = all_workloads(Scale::Quick)
//!     .into_iter()
//!     .find(|w| w.name() == "ping_pong")
//!     .unwrap();
//! let mut rt = RuntimeKind::TokioCurrent.build(2).unwrap();
//! let sample = ping_pong.run(&mut rt, Phase::Measure).unwrap();
//! println!("ping_pong: {:.3} {}", sample.value, ping_pong.unit().symbol());
//! assert!(sample.value > 0.0);
//! ```
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod alloc;
mod cgroup;
mod child;
mod cli;
mod cpu;
mod net;
mod os;
mod percentile;
mod report;
mod runner;
mod runtimes;
mod sync;
mod workloads;

pub use alloc::{allocator_name, measure_allocations, AllocDelta, CountingAlloc};
pub use child::{serve_child_if_asked, set_child_exe};
pub use cli::{parse_args, Options, USAGE};
pub use cpu::{burn_micros, calibrate, iterations_per_micro, parallel_capacity, spin};
pub use net::{
    loopback_listener, run_churn, run_client, run_open_loop, spawn_client, ClientConfig,
    ClientReport, EchoListeners, EchoServer, Exchange, Overrun, RequestMix, Tally, BACKLOG,
};
pub use os::{
    client_cpu, confine_to, pin_to_client_cpu, process_cpu_time, process_cpus, raise_nofile_limit,
    resident_bytes, server_cpus, system_busy_time, thread_cpu_time, thread_cpus,
};
pub use percentile::{percentile, Distribution};
pub use report::{output_dir, render_markdown, render_summary, write_report, Machine, ReportMeta};
pub use runner::{
    run_suite, CellResult, Outcome, Placement, RatioInterval, RunConfig, SampleEvent, Stats,
    WorkloadResult, BOOTSTRAP_RESAMPLES, CONFIDENCE_PERCENT, MIN_REPETITIONS,
};
pub use runtimes::{
    AnyRuntime, IoRt, MonoioReuseportRt, MonoioRt, RemoteSpawn, RingloopRt, Rt, RuntimeKind,
    TokioRt, Visit, VisitIo, VisitRemote, DEFAULT_WORKERS,
};
pub use sync::{oneshot, FirstPoll, Latch, WaitGroup, WaitGroupWait, YieldNow};
pub use workloads::{all_workloads, ExtraMetric, Phase, Sample, Scale, Unit, Workload};
