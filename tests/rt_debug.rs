//! Debug mode reports slow polls through `log` with the task's id, name and duration, and
//! metrics count what each thread did. Own test binary: it installs the global logger.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", record.level(), record.args()));
    }
    fn flush(&self) {}
}

fn captured() -> &'static Capture {
    static CAPTURE: OnceLock<&'static Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(capture).expect("the only logger of this binary");
        log::set_max_level(log::LevelFilter::Trace);
        capture
    })
}

fn slow_poll_lines(name: &str) -> Vec<String> {
    captured()
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains("slow poll") && line.contains(name))
        .cloned()
        .collect()
}

fn runtimes(debug: bool) -> Vec<(&'static str, ringloop::Runtime)> {
    let threshold = Duration::from_millis(20);
    vec![
        (
            "single",
            ringloop::Runtime::builder()
                .single_threaded()
                .debug(debug)
                .slow_poll_threshold(threshold)
                .build()
                .unwrap(),
        ),
        (
            "multi",
            ringloop::Runtime::builder()
                .worker_threads(2)
                .debug(debug)
                .slow_poll_threshold(threshold)
                .build()
                .unwrap(),
        ),
    ]
}

#[test]
fn a_blocking_poll_is_reported_in_debug_mode_only() {
    captured();
    for debug in [true, false] {
        for (flavor, rt) in runtimes(debug) {
            let name = format!("blocker-{flavor}-{debug}");
            let fast = format!("fast-{flavor}-{debug}");
            rt.block_on(async {
                let blocker = ringloop::TaskBuilder::new()
                    .name(name.clone())
                    .spawn(async {
                        std::thread::sleep(Duration::from_millis(60));
                    });
                let quick = ringloop::TaskBuilder::new()
                    .name(fast.clone())
                    .spawn(async {});
                blocker.await.unwrap();
                quick.await.unwrap();
            });
            // A worker logs a slow poll after the poll returns, which can be after the
            // awaiting `block_on` has seen the task finish; dropping the runtime joins the
            // workers, so every report is in by then.
            drop(rt);
            let lines = slow_poll_lines(&name);
            if debug {
                assert_eq!(lines.len(), 1, "{flavor}: {lines:?}");
                assert!(lines[0].starts_with("WARN"), "{lines:?}");
                assert!(lines[0].contains("Task-"), "names the id: {lines:?}");
            } else {
                assert!(
                    lines.is_empty(),
                    "{flavor}: reported without debug mode: {lines:?}"
                );
            }
            assert!(
                slow_poll_lines(&fast).is_empty(),
                "a fast poll was reported"
            );
        }
    }
}

#[test]
fn metrics_count_polls_and_parks_per_thread() {
    for (flavor, rt) in runtimes(false) {
        let before = rt.metrics();
        let expected_threads = if flavor == "single" { 1 } else { 2 };
        assert_eq!(before.workers.len(), expected_threads, "{flavor}");
        rt.block_on(async {
            for i in 0..200u32 {
                ringloop::create_task(async move { i }).await.unwrap();
            }
            ringloop::sleep(Duration::from_millis(5)).await.unwrap();
        });
        let after = rt.metrics();
        let polls: u64 = after.workers.iter().map(|w| w.polls).sum();
        let parks: u64 = after.workers.iter().map(|w| w.parks).sum();
        let enters: u64 = after.workers.iter().map(|w| w.ring_enters).sum();
        assert!(polls >= 200, "{flavor}: {after:?}");
        assert!(parks >= 1, "{flavor}: somebody waited: {after:?}");
        if flavor == "single" {
            // The sleep went through this thread's ring.
            assert!(enters >= 1, "{flavor}: {after:?}");
            assert!(after.workers[0].ring_completions >= 1, "{after:?}");
        }
    }
}

#[test]
fn a_poll_stuck_in_a_blocking_call_is_reported_while_it_is_stuck() {
    captured();
    let rt = ringloop::Runtime::builder()
        .worker_threads(2)
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(20))
        .build()
        .unwrap();
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let stuck = rt.spawn(async move {
        // Blocks its worker until the test has seen the watchdog's report.
        blocked.recv_timeout(Duration::from_secs(10)).is_ok()
    });
    let id = stuck.id().to_string();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let seen = loop {
        let reported = captured().0.lock().unwrap().iter().any(|line| {
            line.contains("still in that poll") && line.contains(&format!("task {id} "))
        });
        if reported || std::time::Instant::now() > deadline {
            break reported;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    release.send(()).unwrap();
    assert!(seen, "no watchdog report while the poll was stuck");
    assert!(
        rt.block_on(stuck).unwrap(),
        "released by the test, not by its timeout"
    );
}
