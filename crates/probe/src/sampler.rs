//! The sampler thread: counters at the window's start and end, samples in
//! between.

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use procfs::process::Process;
use procfs::{CurrentSI, KernelStats, WithCurrentSystemInfo};
use serde::{Deserialize, Serialize};

use wirebench_proto::vocab::Role;

use crate::cpuset::CpuSet;

/// The part a watched process plays in a trial; in results, its name
/// ("client", "server", "producer", ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProcessRole {
    /// The load generator (wirebench itself).
    Client,
    /// A payload or message server process.
    Server,
    /// One of the pipeline's three services: the vocabulary's role.
    Pipeline(Role),
}

impl ProcessRole {
    pub const ALL: [ProcessRole; 5] = [
        ProcessRole::Client,
        ProcessRole::Server,
        ProcessRole::Pipeline(Role::Producer),
        ProcessRole::Pipeline(Role::Processor),
        ProcessRole::Pipeline(Role::Aggregator),
    ];

    pub fn name(self) -> &'static str {
        match self {
            ProcessRole::Client => "client",
            ProcessRole::Server => "server",
            ProcessRole::Pipeline(role) => role.name(),
        }
    }

    pub fn is_client(self) -> bool {
        self == ProcessRole::Client
    }
}

impl std::fmt::Display for ProcessRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ProcessRole {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ProcessRole {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ProcessRole, D::Error> {
        let name = String::deserialize(d)?;
        ProcessRole::ALL
            .into_iter()
            .find(|role| role.name() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown process role '{name}'")))
    }
}

/// A process to watch, and the role it plays.
#[derive(Debug, Clone)]
pub struct Watched {
    pub role: ProcessRole,
    pub pid: u32,
}

/// What one process cost over the measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessUsage {
    pub role: ProcessRole,
    pub pid: u32,
    /// CPUs the process may run on (Cpus_allowed_list).
    pub cpus: Option<CpuSet>,
    /// CPU time in user mode over the window, all threads, seconds.
    pub cpu_user_s: f64,
    /// CPU time in kernel mode over the window, all threads, seconds.
    /// `cpu_user_s + cpu_system_s` is the window's CPU time as `cpu_clock`
    /// read it; the split between them is the clock ticks' (10 ms).
    pub cpu_system_s: f64,
    /// Where the CPU time was read: the process CPU clock (nanoseconds)
    /// or, as a fallback, /proc's ticks. Absent in results written before
    /// the clock was read (ticks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_clock: Option<CpuClock>,
    /// (user + system) / window * 100: 100 means one core busy throughout.
    pub cpu_percent: f64,
    /// Mean resident set size over the samples, bytes.
    pub rss_avg_bytes: u64,
    /// Largest resident set size sampled, bytes.
    pub rss_peak_bytes: u64,
    /// Most threads seen at once.
    pub threads_max: u64,
    /// Bytes the process wrote through write calls over the window (`wchar`
    /// of /proc/PID/io). A server does no file I/O once it listens, and
    /// tokio writes sockets with write/writev, so this is what it put on the
    /// wire, framing and TLS included: in the pipeline, what each hop
    /// carried. (Reads are not counted: sockets are read with recv, which
    /// `rchar` does not see.) Not taken for the probing process itself: it
    /// also writes its terminal output, and counts its sockets' bytes
    /// directly (`wire_bytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub io_written_bytes: Option<u64>,
    /// One point per second of the window.
    pub timeline: Vec<ProcessPoint>,
    /// True when the process ended before the window did: its figures stop
    /// at its last reading.
    pub exited: bool,
}

impl ProcessUsage {
    pub fn cpu_s(&self) -> f64 {
        self.cpu_user_s + self.cpu_system_s
    }
}

/// One second of one process.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProcessPoint {
    /// End of the interval, seconds since the window began.
    pub t_s: f64,
    pub cpu_percent: f64,
    pub rss_bytes: u64,
}

/// Everything the probe measured.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeReport {
    /// Length of the probe's window, seconds (start and end readings).
    pub window_s: f64,
    pub processes: Vec<ProcessUsage>,
    /// For each CPU set asked about: how busy its CPUs were over the
    /// window, by any process, 0..100.
    pub cpu_set_busy_percent: Vec<f64>,
}

#[derive(Debug, Clone, Copy)]
struct Reading {
    at: Instant,
    /// User + system CPU time of all threads, living and exited,
    /// nanoseconds: the process CPU clock, or ticks x 10^9 / USER_HZ
    /// when that clock cannot be read (see [`CpuClock`]).
    cpu_ns: u64,
    /// Which of the two `cpu_ns` is.
    clock: CpuClock,
    user_ticks: u64,
    system_ticks: u64,
    rss_bytes: u64,
    threads: u64,
    /// wchar, for processes other than this one.
    written: Option<u64>,
}

/// Where a process's CPU time was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CpuClock {
    /// The process CPU clock (`clock_getcpuclockid(pid)` +
    /// `clock_gettime`): the scheduler's runtime of every thread, exited
    /// ones included, in nanoseconds. A thread running on another CPU at
    /// the moment of reading is counted up to its last scheduler tick or
    /// switch, so each reading is exact to within one scheduler tick of
    /// each thread then running (none for an idle process).
    #[serde(rename = "process-cpu-clock")]
    ProcessClock,
    /// `/proc/PID/stat`'s utime + stime: whole clock ticks (10 ms at
    /// USER_HZ 100); the fallback when the clock cannot be read.
    ProcStatTicks,
}

impl CpuClock {
    pub fn name(self) -> &'static str {
        match self {
            CpuClock::ProcessClock => "process-cpu-clock",
            CpuClock::ProcStatTicks => "proc-stat-ticks",
        }
    }
}

/// `pid`'s CPU time from its process CPU clock, nanoseconds.
fn process_clock_ns(pid: u32) -> Option<u64> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    let mut clock: libc::clockid_t = 0;
    // SAFETY: both calls only write their out parameters, which are valid.
    unsafe {
        if libc::clock_getcpuclockid(pid, &mut clock) != 0 {
            return None;
        }
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        if libc::clock_gettime(clock, &mut now) != 0 {
            return None;
        }
        Some(u64::try_from(now.tv_sec).ok()? * 1_000_000_000 + u64::try_from(now.tv_nsec).ok()?)
    }
}

fn read(pid: u32) -> Option<Reading> {
    let process = Process::new(i32::try_from(pid).ok()?).ok()?;
    let clock_ns = process_clock_ns(pid);
    let at = Instant::now();
    let stat = process.stat().ok()?;
    let written = (pid != std::process::id())
        .then(|| process.io().ok())
        .flatten()
        .map(|io| io.wchar);
    let tick_ns = 1_000_000_000 / procfs::ticks_per_second().max(1);
    let (cpu_ns, clock) = match clock_ns {
        Some(ns) => (ns, CpuClock::ProcessClock),
        None => ((stat.utime + stat.stime) * tick_ns, CpuClock::ProcStatTicks),
    };
    Some(Reading {
        at,
        cpu_ns,
        clock,
        user_ticks: stat.utime,
        system_ticks: stat.stime,
        rss_bytes: stat.rss_bytes().get(),
        threads: u64::try_from(stat.num_threads).unwrap_or(0),
        written,
    })
}

/// A process's counters now, as a metrics endpoint exposes them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessNow {
    /// User and system CPU time since the process started, seconds (from
    /// the process CPU clock: nanoseconds, see [`CpuClock`]).
    pub cpu_s: f64,
    pub rss_bytes: u64,
    pub threads: u64,
}

/// `pid`'s counters now, from /proc; None when it cannot be read.
pub fn process_now(pid: u32) -> Option<ProcessNow> {
    let reading = read(pid)?;
    Some(ProcessNow {
        cpu_s: reading.cpu_ns as f64 / 1e9,
        rss_bytes: reading.rss_bytes,
        threads: reading.threads,
    })
}

fn cpus_allowed(pid: u32) -> Option<CpuSet> {
    let status = Process::new(i32::try_from(pid).ok()?).ok()?.status().ok()?;
    let ranges = status.cpus_allowed_list?;
    CpuSet::new(
        ranges
            .into_iter()
            .flat_map(|(lo, hi)| lo as usize..=hi as usize)
            .collect(),
    )
    .ok()
}

/// Busy and total ticks per CPU, from /proc/stat.
fn cpu_ticks() -> Vec<(u64, u64)> {
    let Ok(stats) = KernelStats::current() else {
        return Vec::new();
    };
    stats
        .cpu_time
        .iter()
        .map(|t| {
            let busy = t.user
                + t.nice
                + t.system
                + t.irq.unwrap_or(0)
                + t.softirq.unwrap_or(0)
                + t.steal.unwrap_or(0);
            (busy, busy + t.idle + t.iowait.unwrap_or(0))
        })
        .collect()
}

/// Per-process state while the window runs.
struct Track {
    watched: Watched,
    cpus: Option<CpuSet>,
    first: Option<Reading>,
    last: Option<Reading>,
    /// Reading at the last whole second, for the timeline.
    second_mark: Option<Reading>,
    rss_sum: u128,
    samples: u64,
    rss_peak: u64,
    threads_max: u64,
    timeline: Vec<ProcessPoint>,
    exited: bool,
}

impl Track {
    fn sample(&mut self, window_start: Instant) {
        let Some(reading) = read(self.watched.pid) else {
            self.exited |= self.first.is_some();
            return;
        };
        if self.first.is_none() {
            self.first = Some(reading);
            self.second_mark = Some(reading);
        }
        self.last = Some(reading);
        self.rss_sum += u128::from(reading.rss_bytes);
        self.samples += 1;
        self.rss_peak = self.rss_peak.max(reading.rss_bytes);
        self.threads_max = self.threads_max.max(reading.threads);
        let mark = self.second_mark.expect("set with first");
        let elapsed = reading.at.duration_since(window_start).as_secs_f64();
        let mark_s = mark.at.duration_since(window_start).as_secs_f64();
        if elapsed.floor() > mark_s.floor() + 0.5 || elapsed - mark_s >= 1.0 {
            self.timeline.push(ProcessPoint {
                t_s: elapsed,
                cpu_percent: cpu_percent(&mark, &reading),
                rss_bytes: reading.rss_bytes,
            });
            self.second_mark = Some(reading);
        }
    }

    fn finish(self) -> ProcessUsage {
        let written = match (
            self.first.and_then(|r| r.written),
            self.last.and_then(|r| r.written),
        ) {
            (Some(first), Some(last)) => Some(last.saturating_sub(first)),
            _ => None,
        };
        let (user_s, system_s, percent) = match (self.first, self.last) {
            (Some(first), Some(last)) => {
                let cpu_s = last.cpu_ns.saturating_sub(first.cpu_ns) as f64 / 1e9;
                // The clock has no user/system split; the ticks do, at
                // their resolution: the total is split in their proportion
                // (all user when no tick fell in the window).
                let user = last.user_ticks.saturating_sub(first.user_ticks);
                let system = last.system_ticks.saturating_sub(first.system_ticks);
                let user_share = match user + system {
                    0 => 1.0,
                    ticks => user as f64 / ticks as f64,
                };
                (
                    cpu_s * user_share,
                    cpu_s * (1.0 - user_share),
                    cpu_percent(&first, &last),
                )
            }
            _ => (0.0, 0.0, 0.0),
        };
        let clock = match (self.first, self.last) {
            (Some(first), Some(last)) if first.clock == last.clock => Some(first.clock),
            (Some(_), Some(_)) => Some(CpuClock::ProcStatTicks),
            _ => None,
        };
        ProcessUsage {
            role: self.watched.role,
            pid: self.watched.pid,
            cpus: self.cpus,
            cpu_user_s: user_s,
            cpu_system_s: system_s,
            cpu_clock: clock,
            cpu_percent: percent,
            rss_avg_bytes: if self.samples == 0 {
                0
            } else {
                u64::try_from(self.rss_sum / u128::from(self.samples)).unwrap_or(u64::MAX)
            },
            rss_peak_bytes: self.rss_peak,
            threads_max: self.threads_max,
            io_written_bytes: written,
            timeline: self.timeline,
            exited: self.exited,
        }
    }
}

fn cpu_percent(from: &Reading, to: &Reading) -> f64 {
    let seconds = to.at.duration_since(from.at).as_secs_f64();
    if seconds <= 0.0 {
        return 0.0;
    }
    to.cpu_ns.saturating_sub(from.cpu_ns) as f64 / 1e9 / seconds * 100.0
}

/// A running probe; [`Probe::stop`] ends the window and returns the report.
pub struct Probe {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: JoinHandle<ProbeReport>,
}

impl Probe {
    /// Starts watching `watched`. The window begins at `window_start` (the
    /// end of the warm-up) and ends when [`Probe::stop`] is called.
    /// `cpu_sets` are the sets whose overall busyness is reported.
    pub fn start(
        watched: Vec<Watched>,
        cpu_sets: Vec<CpuSet>,
        window_start: Instant,
        interval: Duration,
    ) -> Probe {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let thread_stop = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("wirebench-probe".into())
            .spawn(move || sample_window(watched, cpu_sets, window_start, interval, &thread_stop))
            .expect("cannot start the probe thread");
        Probe { stop, thread }
    }

    /// Ends the window now (final readings) and returns what was measured.
    pub fn stop(self) -> ProbeReport {
        let (flag, wake) = &*self.stop;
        *flag.lock().unwrap_or_else(|p| p.into_inner()) = true;
        wake.notify_all();
        self.thread.join().expect("the probe thread panicked")
    }
}

/// Sleeps until `until` or until stopped; true when stopped.
fn wait(stop: &(Mutex<bool>, Condvar), until: Instant) -> bool {
    let (flag, wake) = stop;
    let mut stopped = flag.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if *stopped {
            return true;
        }
        let now = Instant::now();
        if now >= until {
            return false;
        }
        stopped = wake
            .wait_timeout(stopped, until - now)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

fn sample_window(
    watched: Vec<Watched>,
    cpu_sets: Vec<CpuSet>,
    window_start: Instant,
    interval: Duration,
    stop: &(Mutex<bool>, Condvar),
) -> ProbeReport {
    let mut tracks: Vec<Track> = watched
        .into_iter()
        .map(|w| Track {
            cpus: cpus_allowed(w.pid),
            watched: w,
            first: None,
            last: None,
            second_mark: None,
            rss_sum: 0,
            samples: 0,
            rss_peak: 0,
            threads_max: 0,
            timeline: Vec::new(),
            exited: false,
        })
        .collect();
    let stopped_early = wait(stop, window_start);
    let start = Instant::now();
    let ticks_start = cpu_ticks();
    for track in &mut tracks {
        track.sample(start);
    }
    if !stopped_early {
        let mut next = start + interval;
        loop {
            let stopped = wait(stop, next);
            for track in &mut tracks {
                track.sample(start);
            }
            if stopped {
                break;
            }
            next += interval;
        }
    }
    let ticks_end = cpu_ticks();
    let window_s = start.elapsed().as_secs_f64();
    let cpu_set_busy_percent = cpu_sets
        .iter()
        .map(|set| set_busy_percent(set, &ticks_start, &ticks_end))
        .collect();
    ProbeReport {
        window_s,
        processes: tracks.into_iter().map(|t| t.finish()).collect(),
        cpu_set_busy_percent,
    }
}

fn set_busy_percent(set: &CpuSet, start: &[(u64, u64)], end: &[(u64, u64)]) -> f64 {
    let (mut busy, mut total) = (0u64, 0u64);
    for &cpu in set.cpus() {
        if let (Some(a), Some(b)) = (start.get(cpu), end.get(cpu)) {
            busy += b.0.saturating_sub(a.0);
            total += b.1.saturating_sub(a.1);
        }
    }
    if total == 0 {
        0.0
    } else {
        busy as f64 / total as f64 * 100.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_itself() {
        let me = std::process::id();
        let probe = Probe::start(
            vec![Watched {
                role: ProcessRole::Client,
                pid: me,
            }],
            vec![CpuSet::current().unwrap()],
            Instant::now(),
            Duration::from_millis(50),
        );
        // Burn 300 ms of CPU (by this process's own CPU clock, so a busy
        // machine only makes it take longer) and hold some memory; the
        // window lasts at least 1.1 s, for a timeline point.
        let held = vec![1u8; 8 << 20];
        let started = Instant::now();
        let cpu_at_start = process_clock_ns(me).unwrap();
        let mut x = 0u64;
        while process_clock_ns(me).unwrap() - cpu_at_start < 300_000_000 {
            for _ in 0..10_000 {
                x = x.wrapping_add(std::hint::black_box(1));
            }
        }
        std::thread::sleep(Duration::from_millis(1100).saturating_sub(started.elapsed()));
        let report = probe.stop();
        std::hint::black_box((x, held));
        let usage = &report.processes[0];
        assert_eq!(usage.pid, me);
        assert!(usage.cpu_s() >= 0.3, "{usage:?}");
        assert!(usage.rss_peak_bytes > 8 << 20);
        assert!(usage.threads_max >= 2, "the probe thread is one of ours");
        assert!(!usage.timeline.is_empty());
        assert!(report.cpu_set_busy_percent[0] > 0.0);
        // The window runs from the probe's first sample, which a busy
        // machine may take tens of ms to reach: at least 1 s of the 1.1.
        assert!(report.window_s >= 1.0, "{}", report.window_s);
    }
}
