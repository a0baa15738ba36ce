//! What machine the figures come from, read from `/proc` (best effort; Linux only).

use std::fs;
use std::thread;

/// The machine a run happened on.
#[derive(Debug, Clone, Default)]
pub struct Machine {
    /// `model name` from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Logical CPUs usable by this process.
    pub logical_cpus: usize,
    /// The kernel release (`/proc/sys/kernel/osrelease`).
    pub kernel: String,
    /// Total memory in bytes (`MemTotal` of `/proc/meminfo`).
    pub memory_bytes: u64,
    /// The 1, 5 and 15 minute load averages when the run started (`/proc/loadavg`).
    pub load_average: String,
}

impl Machine {
    /// Reads the machine's description; missing facts are left empty.
    pub fn detect() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = field(&cpuinfo, "model name")
            .unwrap_or("unknown")
            .to_owned();
        let memory_bytes = fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                let kb = field(&m, "MemTotal")?.split_whitespace().next()?;
                kb.parse::<u64>().ok()
            })
            .map_or(0, |kb| kb * 1024);
        Machine {
            cpu_model,
            logical_cpus: thread::available_parallelism().map_or(1, |n| n.get()),
            kernel: read_trimmed("/proc/sys/kernel/osrelease"),
            memory_bytes,
            load_average: read_trimmed("/proc/loadavg")
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    /// Memory in GiB, rounded.
    pub fn memory_gib(&self) -> u64 {
        (self.memory_bytes as f64 / (1u64 << 30) as f64).round() as u64
    }
}

fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
}

fn read_trimmed(path: &str) -> String {
    fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
