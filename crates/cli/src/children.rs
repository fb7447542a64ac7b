//! Server child processes, owned by guards. A server is this same binary
//! running `serve ... --port 0`; it prints the address it bound, which is
//! how `bench` picks free loopback ports without a race.
//!
//! A child never outlives wirebench: the guard ends it on drop (SIGTERM,
//! then SIGKILL after a grace period), which covers normal exit, errors and
//! Ctrl-C; and the kernel sends it SIGKILL if wirebench itself dies
//! (PR_SET_PDEATHSIG), which covers `kill -9`.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use wirebench_probe::CpuSet;

/// The line a server prints first: "listening on ADDR (...)".
pub const LISTENING_PREFIX: &str = "listening on ";

const READY_TIMEOUT: Duration = Duration::from_secs(15);
const STOP_GRACE: Duration = Duration::from_secs(3);

/// Where a server process runs: pinned to CPUs, and in a network
/// namespace (its `/run/netns/...` handle), when given.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub cpus: Option<CpuSet>,
    pub netns: Option<std::path::PathBuf>,
}

#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    addr: SocketAddr,
    label: String,
}

impl ServerProcess {
    /// Starts `wirebench <args>` where `place` says (pinned, in a network
    /// namespace), and waits until it has bound its port.
    pub fn start(label: &str, args: &[String], place: Place) -> anyhow::Result<ServerProcess> {
        let Place { cpus, netns } = place;
        let netns = netns
            .map(|path| {
                std::fs::File::open(&path)
                    .with_context(|| format!("cannot open the namespace {}", path.display()))
            })
            .transpose()?;
        let exe = std::env::current_exe().context("cannot find the wirebench binary")?;
        let mut command = Command::new(exe);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        // SAFETY: prctl, setns and sched_setaffinity are async-signal-safe
        // system calls; nothing is allocated between fork and exec.
        unsafe {
            command.pre_exec(move || {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if let Some(netns) = &netns {
                    use std::os::fd::AsRawFd;
                    if libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                if let Some(cpus) = &cpus {
                    cpus.pin_current_thread()?;
                }
                Ok(())
            });
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start the {label} server"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut guard = ServerProcess {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            label: label.to_owned(),
        };
        guard.addr = wait_for_address(stdout, &mut guard)?;
        Ok(guard)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Ends the server: SIGTERM, a grace period to finish in-flight
    /// requests, then SIGKILL. Idempotent.
    pub fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: signalling a child we own, by its pid; it has not been
        // reaped (try_wait above), so the pid is still ours.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + STOP_GRACE;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!(
            "wirebench: the {} server did not stop in time; killing it",
            self.label
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads the child's first line (on a thread, so a silent child cannot hang
/// us) and keeps draining its stdout afterwards.
fn wait_for_address(
    stdout: std::process::ChildStdout,
    guard: &mut ServerProcess,
) -> anyhow::Result<SocketAddr> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next();
        let _ = tx.send(first);
        for _ in lines {}
    });
    let line = match rx.recv_timeout(READY_TIMEOUT) {
        Ok(Some(Ok(line))) => line,
        Ok(_) => {
            let status = guard.child.wait().ok();
            bail!(
                "the {} server exited before it was ready ({})",
                guard.label,
                status.map_or("unknown status".to_owned(), |s| s.to_string())
            );
        }
        Err(_) => bail!(
            "the {} server printed no address within {READY_TIMEOUT:?}",
            guard.label
        ),
    };
    parse_listening_line(&line)
        .with_context(|| format!("the {} server said '{line}', not its address", guard.label))
}

pub fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    line.strip_prefix(LISTENING_PREFIX)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_listening_line() {
        assert_eq!(
            parse_listening_line("listening on 127.0.0.1:4321 (payload, rest)"),
            Some("127.0.0.1:4321".parse().unwrap())
        );
        assert_eq!(parse_listening_line("hello"), None);
    }
}
