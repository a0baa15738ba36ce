//! Where the report goes: `<target dir>/ringloop-report/`.
//!
//! The target directory is, in order: `$CARGO_TARGET_DIR` (relative to the current
//! directory, as cargo reads it); the nearest ancestor of the running executable that
//! holds cargo's `CACHEDIR.TAG` (covers `build.target-dir` in a cargo config); the
//! `target` directory next to the workspace's `Cargo.toml` (found from this crate's
//! manifest directory, then from the current directory).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

const REPORT_DIR: &str = "ringloop-report";

/// The report directory: `explicit` if given, else `<target dir>/ringloop-report`.
pub fn output_dir(explicit: Option<&Path>) -> PathBuf {
    match explicit {
        Some(dir) => dir.to_path_buf(),
        None => target_dir().join(REPORT_DIR),
    }
}

fn target_dir() -> PathBuf {
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        let dir = PathBuf::from(dir);
        return std::path::absolute(&dir).unwrap_or(dir);
    }
    if let Some(dir) = target_dir_of_executable() {
        return dir;
    }
    workspace_root().join("target")
}

fn target_dir_of_executable() -> Option<PathBuf> {
    let exe = env::current_exe().ok()?;
    let exe = fs::canonicalize(&exe).unwrap_or(exe);
    exe.ancestors()
        .skip(1)
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let current = env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let found = [manifest_dir, current.as_path()]
        .into_iter()
        .find_map(|start| start.ancestors().find(|dir| is_workspace_root(dir)))
        .map(Path::to_path_buf);
    found.unwrap_or(current)
}

fn is_workspace_root(dir: &Path) -> bool {
    fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|toml| toml.contains("[workspace]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        let root = workspace_root();
        assert!(is_workspace_root(&root), "{}", root.display());
        assert!(root.join("benches").is_dir());
    }

    #[test]
    fn explicit_directory_wins() {
        assert_eq!(output_dir(Some(Path::new("/x/y"))), PathBuf::from("/x/y"));
        assert!(output_dir(None).ends_with(REPORT_DIR));
    }
}
