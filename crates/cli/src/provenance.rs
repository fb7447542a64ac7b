//! Who, where, what: the provenance every result carries (DESIGN rule 10).

use std::time::SystemTime;

use wirebench_report::{Machine, RunInfo};

pub fn machine() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|line| {
            line.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    Machine {
        cpus: online_cpus(),
        cpu_model,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned()),
        os: std::env::consts::OS.to_owned(),
        arch: std::env::consts::ARCH.to_owned(),
        clock_ticks_per_second: Some(wirebench_probe::ticks_per_second()),
    }
}

/// CPUs online on the machine, whatever this process is pinned to.
fn online_cpus() -> usize {
    // SAFETY: sysconf only reads a system value.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).ok().filter(|&n| n > 0).unwrap_or(1)
}

pub fn is_debug_build() -> bool {
    cfg!(debug_assertions)
}

/// Shouts, on standard error, that a debug build's numbers mean nothing.
pub fn warn_if_debug_build() {
    if is_debug_build() {
        eprintln!(
            "\n!!! WARNING: this is a DEBUG build of wirebench. Its numbers mean nothing.\n\
             !!! Build with --release (cargo run --release -- ...) before you measure.\n"
        );
    }
}

/// Now, RFC 3339 UTC to the millisecond.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

pub fn run_info(settings: serde_json::Value) -> RunInfo {
    let commit = env!("WIREBENCH_GIT_COMMIT");
    RunInfo {
        command_line: std::env::args().collect(),
        settings,
        machine: machine(),
        wirebench_version: env!("CARGO_PKG_VERSION").to_owned(),
        git_commit: (!commit.is_empty()).then(|| commit.to_owned()),
        build_profile: if is_debug_build() { "debug" } else { "release" }.to_owned(),
        started_at: humantime::format_rfc3339_seconds(SystemTime::now()).to_string(),
        interrupted: false,
    }
}

/// The open-files limits of this process: (soft, hard).
fn open_files_limits() -> (u64, u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return (0, 0);
    }
    (limit.rlim_cur, limit.rlim_max)
}

/// Lets this process open as many sockets as the system allows (10,000
/// users over HTTP/1.1 need 10,000 connections): the soft limit up to the
/// hard one. Returns the limit now in force. Called when a run starts, not
/// while it is planned.
pub fn raise_open_files_limit() -> u64 {
    let (soft, hard) = open_files_limits();
    if soft < hard {
        let raised = libc::rlimit {
            rlim_cur: hard,
            rlim_max: hard,
        };
        // SAFETY: setrlimit only reads the struct we pass.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return hard;
        }
    }
    soft
}

/// Says what to do when the connections asked for do not fit the limit.
/// Only reads: the run raises its soft limit to the hard one when it
/// starts ([`raise_open_files_limit`]), so the hard limit is what counts.
/// Refuses a plan whose bodies in flight cannot fit in this machine's
/// available memory (`MemAvailable`): each request in flight holds its
/// body at both ends, the server building it and the client reading it.
/// Without the check, `--size-kb 2000000 -c 50` would try for ~190 GiB.
pub fn check_memory(size_kb: u64, in_flight: u64) -> anyhow::Result<()> {
    let needed = size_kb
        .saturating_mul(1024)
        .saturating_mul(2)
        .saturating_mul(in_flight);
    use procfs::Current;
    let Some(available) = procfs::Meminfo::current()
        .ok()
        .and_then(|m| m.mem_available)
    else {
        return Ok(());
    };
    if needed > available {
        let gib = |bytes: u64| bytes as f64 / (1u64 << 30) as f64;
        let fits = (available / size_kb.saturating_mul(2048).max(1)).max(1);
        anyhow::bail!(
            "{size_kb} KiB bodies with {in_flight} in flight hold about {:.1} GiB (each at the server and at the client), \
             but this machine has {:.1} GiB available: give -c {fits} or less, or a smaller size",
            gib(needed),
            gib(available)
        );
    }
    Ok(())
}

pub fn check_open_files(connections: u64) -> anyhow::Result<()> {
    let (_, limit) = open_files_limits();
    // Each connection is one descriptor; keep room for everything else.
    let needed = connections + 64;
    if limit < needed {
        anyhow::bail!(
            "{connections} connections need about {needed} open files, but this process may open only {limit}. \
             Raise the hard limit (e.g. `ulimit -Hn {needed}` as root, or LimitNOFILE= in systemd) or use fewer connections."
        );
    }
    Ok(())
}
