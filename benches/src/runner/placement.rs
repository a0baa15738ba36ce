//! Where a workload's server runs: its CPUs and the worker count of the multi-threaded
//! runtimes.
//!
//! A workload driven by the TCP load generator gives the server the CPUs the generator does
//! not use ([`crate::os::server_cpus`]), and sizes every multi-threaded runtime to them: the
//! set-up of a server with its own cores next to its clients. Giving the server every CPU
//! while the generator busies one of them measures an oversubscribed machine (three busy
//! threads on two CPUs), where a scheduler that dodges a contended CPU wins by the set-up;
//! that case has rows of its own ([`crate::workloads::Workload::server_shares_client_cpu`]),
//! labelled as such. Every other workload runs on all of the process's CPUs with the
//! configured worker count.

use crate::os;
use crate::workloads::Workload;

/// The CPUs and workers of one workload's samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Worker threads of the multi-threaded runtimes.
    pub workers: usize,
    /// The CPUs the server's threads are confined to, or `None` for all of the process's.
    pub server_cpus: Option<Vec<usize>>,
    /// The load generator's CPU, if the workload has one and it could be found.
    pub client_cpu: Option<usize>,
}

impl Placement {
    /// The placement of `workload`'s samples, with `workers` configured for the suite.
    pub fn of(workload: &dyn Workload, workers: usize) -> Placement {
        if !workload.uses_load_generator() {
            return Placement {
                workers,
                server_cpus: None,
                client_cpu: None,
            };
        }
        let client_cpu = os::client_cpu();
        let server_cpus = os::server_cpus();
        if workload.server_shares_client_cpu() || server_cpus.is_empty() {
            // On one CPU there is nothing to give the server alone: it shares.
            return Placement {
                workers,
                server_cpus: None,
                client_cpu,
            };
        }
        Placement {
            workers: workers.min(server_cpus.len()),
            server_cpus: Some(server_cpus),
            client_cpu,
        }
    }

    /// Confines the calling thread (and the runtime threads it starts) to the server's CPUs;
    /// false if that was asked and refused.
    pub fn confine_server(&self) -> bool {
        self.server_cpus.as_deref().is_none_or(os::confine_to)
    }

    /// The set-up in words, for the report: `"1 worker on CPU 0, client on CPU 1"`.
    pub fn describe(&self) -> String {
        let workers = match self.workers {
            1 => "1 worker".to_owned(),
            n => format!("{n} workers"),
        };
        let cpus = match &self.server_cpus {
            Some(cpus) => format!(" on {}", cpu_list(cpus)),
            None if self.client_cpu.is_some() => {
                " on every CPU (shared with the client)".to_owned()
            }
            None => String::new(),
        };
        let client = self
            .client_cpu
            .map(|cpu| format!(", client on CPU {cpu}"))
            .unwrap_or_default();
        format!("{workers}{cpus}{client}")
    }
}

/// `CPU 0`, `CPUs 0-3`, `CPUs 0, 2, 5`.
fn cpu_list(cpus: &[usize]) -> String {
    match cpus {
        [one] => format!("CPU {one}"),
        [first, .., last] if last - first + 1 == cpus.len() => format!("CPUs {first}-{last}"),
        _ => {
            let list: Vec<String> = cpus.iter().map(ToString::to_string).collect();
            format!("CPUs {}", list.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_the_set_up() {
        let p = Placement {
            workers: 1,
            server_cpus: Some(vec![0]),
            client_cpu: Some(1),
        };
        assert_eq!(p.describe(), "1 worker on CPU 0, client on CPU 1");
        let p = Placement {
            workers: 2,
            server_cpus: None,
            client_cpu: Some(1),
        };
        assert_eq!(
            p.describe(),
            "2 workers on every CPU (shared with the client), client on CPU 1"
        );
        assert_eq!(cpu_list(&[0, 1, 2, 3]), "CPUs 0-3");
        assert_eq!(cpu_list(&[0, 2, 5]), "CPUs 0, 2, 5");
    }
}
