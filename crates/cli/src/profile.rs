//! `bench --profile`: where each trial's CPU goes, from `perf record`.
//!
//! Why perf: it samples in the kernel, so the measured code carries no
//! instrumentation and no profiler thread of its own; one sampler covers
//! the servers and the load generator together, kernel time included (a
//! third of a large answer's cost is the kernel's); and it needs nothing
//! from the binary but its symbols (release builds keep them) and its
//! `.eh_frame` for DWARF unwinding. An in-process sampling crate would see
//! one process, no kernel, and run in the process it measures.
//!
//! Each trial's recording starts with the trial and samples from the end
//! of its warm-up (`--delay`), 199 times a second per busy CPU, with DWARF
//! call graphs of 8 KiB of stack; `perf script` and inferno fold the
//! stacks once the trial is over, outside the measured window. When perf
//! is missing or not permitted (perf_event_paranoid), bench says so once
//! and runs without profiles.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use inferno::collapse::Collapse;
use wirebench_report::profile::Profile;

/// Samples per second per CPU.
pub const FREQUENCY_HZ: u32 = 199;

/// Whether perf can record here; why not otherwise.
pub fn available(dir: &Path) -> Result<(), String> {
    let data = dir.join("perf-check.data");
    let out = Command::new("perf")
        .args(["record", "-q", "-F", "99", "-o"])
        .arg(&data)
        .args(["--", "true"])
        .output()
        .map_err(|err| format!("perf cannot be run ({err}): install linux-perf"))?;
    let _ = std::fs::remove_file(&data);
    if out.status.success() {
        Ok(())
    } else {
        let why = String::from_utf8_lossy(&out.stderr);
        Err(format!(
            "perf record failed: {}",
            why.lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no reason given")
        ))
    }
}

/// A `perf record` over one trial.
pub struct Recording {
    child: Child,
    data: PathBuf,
    /// Process ids of the servers (every other sampled pid is the load
    /// generator).
    servers: Vec<u32>,
}

/// Starts sampling `servers` and this process, from `warmup` on, into
/// `data`.
pub fn start(servers: &[u32], warmup: Duration, data: PathBuf) -> Result<Recording, String> {
    let pids: Vec<String> = servers
        .iter()
        .copied()
        .chain([std::process::id()])
        .map(|p| p.to_string())
        .collect();
    let child = Command::new("perf")
        .args(["record", "-q", "-F", &FREQUENCY_HZ.to_string()])
        .args(["--call-graph", "dwarf,8192"])
        .arg(format!("--delay={}", warmup.as_millis().max(1)))
        .args(["-p", &pids.join(",")])
        .arg("-o")
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("perf cannot be run: {err}"))?;
    Ok(Recording {
        child,
        data,
        servers: servers.to_vec(),
    })
}

impl Recording {
    /// Stops sampling (SIGINT: perf writes its file and exits) and folds
    /// what it recorded.
    pub fn finish(self) -> Result<Profile, String> {
        // Our own child, by its pid.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGINT);
        }
        let out = self
            .child
            .wait_with_output()
            .map_err(|err| format!("perf record: {err}"))?;
        if !self.data.exists() {
            return Err(format!(
                "perf record wrote nothing: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let script = Command::new("perf")
            .args(["script", "--no-inline"])
            .args(["-F", "comm,pid,tid,time,event,ip,sym,dso", "-i"])
            .arg(&self.data)
            .stderr(Stdio::null())
            .output()
            .map_err(|err| format!("perf script: {err}"))?;
        let _ = std::fs::remove_file(&self.data);
        let mut options = inferno::collapse::perf::Options::default();
        options.include_pid = true;
        options.annotate_kernel = true;
        let mut folded = Vec::new();
        inferno::collapse::perf::Folder::from(options)
            .collapse(&script.stdout[..], &mut folded)
            .map_err(|err| format!("folding perf's stacks: {err}"))?;
        Ok(Profile::from_folded(
            FREQUENCY_HZ,
            &by_role(&String::from_utf8_lossy(&folded), &self.servers),
        ))
    }
}

/// Folded stacks with their first frame ("comm-PID") replaced by the
/// role of that process: "server" or "load generator".
fn by_role(folded: &str, servers: &[u32]) -> Vec<(String, u64)> {
    let mut merged: HashMap<String, u64> = HashMap::new();
    for line in folded.lines() {
        let Some((stack, count)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(count) = count.parse::<u64>() else {
            continue;
        };
        let (process, frames) = stack.split_once(';').unwrap_or((stack, ""));
        let pid = process
            .rsplit_once('-')
            .and_then(|(_, pid)| pid.parse::<u32>().ok());
        let role = match pid {
            Some(pid) if servers.contains(&pid) => "server",
            _ => "load generator",
        };
        *merged.entry(format!("{role};{frames}")).or_default() += count;
    }
    merged.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processes_become_roles_and_their_stacks_merge() {
        let folded =
            "wirebench-10;main;serde 5\ntokio-runtime-w-10;main;serde 2\nwirebench-99;run;h2 3\n";
        let mut stacks = by_role(folded, &[10]);
        stacks.sort();
        assert_eq!(
            stacks,
            [
                ("load generator;run;h2".to_owned(), 3),
                ("server;main;serde".to_owned(), 7)
            ]
        );
    }
}
