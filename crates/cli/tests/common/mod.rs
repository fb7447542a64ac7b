//! Helpers for tests that run the real `wirebench` binary.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn wirebench() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wirebench"))
}

/// A `--max-size-kb` value no other test uses, so the server processes a
/// test started can be found by their command line.
pub fn marker(test: u64) -> String {
    (60_000 + test * 1000 + u64::from(std::process::id()) % 1000).to_string()
}

/// Pids of live `wirebench serve` processes whose command line holds
/// `--max-size-kb MARKER`.
pub fn servers_with_marker(marker: &str) -> Vec<u32> {
    let needle = format!("--max-size-kb\0{marker}\0");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // Zombies have exited; only their parent's wait is missing.
            let cmdline = String::from_utf8_lossy(&cmdline);
            cmdline.contains("\0serve\0") && cmdline.contains(&needle) && !state.contains(") Z ")
        })
        .collect()
}

/// Waits up to `limit` for `check` to hold.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

pub fn signal(child: &Child, signal: i32) {
    // SAFETY: signalling a child this test started, by its pid.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

pub fn wait_with_limit(mut child: Child, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    while started.elapsed() < limit {
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("process did not end within {limit:?}");
}

pub fn spawn(command: &mut Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
