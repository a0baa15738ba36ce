//! Without a `log` logger, the runtime's reports (a slow poll in debug mode, a panic nobody
//! retrieved) reach standard error, as Python's unconfigured `logging` does for warnings.
//! The scenario runs in a child process (this test binary, one ignored test) so that its
//! stderr can be read and no logger is ever installed in it.

use std::process::Command;
use std::time::Duration;

#[test]
fn reports_reach_stderr_without_a_logger() {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "scenario_without_a_logger",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("RINGLOOP_DEBUG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed: {stderr}");
    assert!(
        stderr.contains("ringloop WARN: slow poll: task") && stderr.contains("(sleeper)"),
        "no slow-poll report on stderr: {stderr}"
    );
    assert!(
        stderr.contains("ringloop ERROR: task") && stderr.contains("(lost) panicked"),
        "no lost-panic report on stderr: {stderr}"
    );
}

/// Run by [`reports_reach_stderr_without_a_logger`] in a child process.
#[test]
#[ignore = "run in a child process by reports_reach_stderr_without_a_logger"]
fn scenario_without_a_logger() {
    assert_eq!(
        log::max_level(),
        log::LevelFilter::Off,
        "a logger is installed"
    );
    let rt = ringloop::Runtime::builder()
        .single_threaded()
        .debug(true)
        .slow_poll_threshold(Duration::from_millis(10))
        .build()
        .unwrap();
    rt.block_on(async {
        ringloop::TaskBuilder::new()
            .name("sleeper")
            .spawn(async { std::thread::sleep(Duration::from_millis(30)) })
            .await
            .unwrap();
        let lost = ringloop::TaskBuilder::new()
            .name("lost")
            .spawn(async { panic!("nobody awaits this") });
        // Dropping the handle detaches the task: its panic is never retrieved.
        drop(lost);
        ringloop::sleep(Duration::from_millis(5)).await.unwrap();
    });
}
