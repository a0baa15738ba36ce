//! A memory cgroup of its own for a server child, to count the kernel memory it costs.
//!
//! A process's RSS leaves out what the kernel allocates on its behalf: socket structures,
//! io_uring's per-request `io_kiocb`s, epoll items, page tables. The memory controller
//! charges those to the cgroup of the process that caused them, so a child moved into a
//! cgroup of its own can be measured whole: the cgroup's usage is user plus kernel memory,
//! and its kernel part is reported apart.
//!
//! Both hierarchies are handled: cgroup v2 (`memory.current`, and `kernel` or `slab` in
//! `memory.stat`) and the v1 memory controller (`memory.usage_in_bytes`,
//! `memory.kmem.usage_in_bytes`). Creating a cgroup needs write access to the hierarchy
//! (root, or a delegated subtree); without it [`MemoryCgroup::create`] fails, and the
//! caller says the kernel part was not measured.
//!
//! Only memory charged after the move counts; the figures here are used as differences
//! between two moments after it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where the hierarchies usually live.
const V2_ROOT: &str = "/sys/fs/cgroup";
const V1_MEMORY_ROOT: &str = "/sys/fs/cgroup/memory";

/// Which hierarchy a cgroup is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// A memory cgroup created for one measurement; removed when dropped (once empty).
#[derive(Debug)]
pub(crate) struct MemoryCgroup {
    path: PathBuf,
    version: Version,
}

/// A cgroup's memory at one moment, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemoryUsage {
    /// Everything charged: user pages and kernel memory.
    pub(crate) total: u64,
    /// The kernel part (slab, kernel stacks, page tables, ...), if the kernel reports it.
    pub(crate) kernel: Option<u64>,
}

impl MemoryCgroup {
    /// Creates a fresh memory cgroup beside this process's own.
    pub(crate) fn create() -> io::Result<MemoryCgroup> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "ringloop-bench-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let (parent, version) = parent_cgroup()?;
        let path = parent.join(name);
        fs::create_dir(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot create the memory cgroup {}: {e}", path.display()),
            )
        })?;
        Ok(MemoryCgroup { path, version })
    }

    /// Moves process `pid` (all its threads) into the cgroup.
    pub(crate) fn add(&self, pid: u32) -> io::Result<()> {
        fs::write(self.path.join("cgroup.procs"), pid.to_string()).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!(
                    "cannot move process {pid} into {}: {e}",
                    self.path.display()
                ),
            )
        })
    }

    /// The memory charged to the cgroup now.
    pub(crate) fn usage(&self) -> io::Result<MemoryUsage> {
        match self.version {
            Version::V2 => {
                let total = read_number(&self.path.join("memory.current"))?;
                let stat = fs::read_to_string(self.path.join("memory.stat"))?;
                // `kernel` (Linux 5.18+) is all kernel memory; older kernels have `slab`
                // and `sock` apart.
                let field = |name: &str| stat_field(&stat, name);
                let kernel = field("kernel").or_else(|| {
                    let parts = [field("slab"), field("sock"), field("kernel_stack")];
                    parts
                        .iter()
                        .any(Option::is_some)
                        .then(|| parts.iter().flatten().sum())
                });
                Ok(MemoryUsage { total, kernel })
            }
            Version::V1 => Ok(MemoryUsage {
                total: read_number(&self.path.join("memory.usage_in_bytes"))?,
                kernel: read_number(&self.path.join("memory.kmem.usage_in_bytes")).ok(),
            }),
        }
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        // Fails while a process is still inside (a child that did not exit); nothing else
        // to do then: the empty directory is harmless, and removed with the machine.
        let _ = fs::remove_dir(&self.path);
    }
}

/// The cgroup to create ours in, and its hierarchy: cgroup v2 if this process's unified
/// cgroup has the memory controller, else the v1 memory hierarchy.
fn parent_cgroup() -> io::Result<(PathBuf, Version)> {
    let own = fs::read_to_string("/proc/self/cgroup")?;
    for line in own.lines() {
        // `hierarchy-id:controllers:path`
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let relative = path.trim_start_matches('/');
        if controllers.is_empty() {
            let dir = Path::new(V2_ROOT).join(relative);
            let has_memory = fs::read_to_string(dir.join("cgroup.controllers"))
                .is_ok_and(|c| c.split_whitespace().any(|c| c == "memory"));
            if has_memory {
                return Ok((dir, Version::V2));
            }
        } else if controllers.split(',').any(|c| c == "memory") {
            return Ok((Path::new(V1_MEMORY_ROOT).join(relative), Version::V1));
        }
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no memory cgroup controller is mounted for this process",
    ))
}

fn read_number(path: &Path) -> io::Result<u64> {
    let text = fs::read_to_string(path)?;
    text.trim().parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} holds {text:?}, not a number", path.display()),
        )
    })
}

/// The value of `name` in a `memory.stat` file (`name value` lines).
fn stat_field(stat: &str, name: &str) -> Option<u64> {
    stat.lines().find_map(|line| {
        let (key, value) = line.split_once(' ')?;
        (key == name).then(|| value.trim().parse().ok())?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_memory_stat_fields() {
        let stat = "anon 4096\nkernel 8192\nslab 1024\n";
        assert_eq!(stat_field(stat, "kernel"), Some(8192));
        assert_eq!(stat_field(stat, "slab"), Some(1024));
        assert_eq!(stat_field(stat, "sock"), None);
    }

    /// Where the machine lets us (root, a memory controller), a child's allocation shows
    /// in its cgroup's usage.
    #[test]
    fn counts_a_child_that_allocates() {
        let Ok(cgroup) = MemoryCgroup::create() else {
            eprintln!("no writable memory cgroup here: skipped");
            return;
        };
        // A shell that waits for its input, then holds a 16 MiB string until its input ends.
        let script = r#"read x; v=$(head -c 16777216 /dev/zero | tr '\0' a); echo; read y"#;
        let mut child = std::process::Command::new("sh")
            .args(["-c", script])
            .stdout(std::process::Stdio::piped())
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("sh runs");
        cgroup.add(child.id()).expect("the child moves in");
        let before = cgroup.usage().expect("usage reads");
        let mut stdin = child.stdin.take().expect("piped");
        use std::io::Write;
        stdin.write_all(b"go\n").expect("the child reads");
        // The shell says when it holds the string.
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("the child writes");
        let during = cgroup.usage().expect("usage reads");
        drop(stdin);
        child.wait().expect("the child exits");
        assert!(
            during.total >= before.total + (12 << 20),
            "before {before:?}, during {during:?}"
        );
    }
}
