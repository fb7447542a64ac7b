//! The probe against children that burn a known amount of CPU or hold a
//! known amount of memory (python3, which every machine here has), and
//! against a child pinned to a known CPU set.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use wirebench_probe::{CpuSet, Probe, ProcessRole, ProcessUsage, Watched};

/// Starts `python3 -c script`; the script prints "ready", waits for a line
/// on stdin, does its work, prints "done", then sleeps until killed.
fn python(script: &str) -> (Child, ChildStdin, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    let stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    expect_line(&mut stdout, "ready");
    (child, stdin, stdout)
}

fn expect_line(stdout: &mut impl BufRead, want: &str) {
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), want);
}

/// Runs `script` (see [`python`]) inside a probe window sampled every
/// `interval`. The window's first reading is taken on the probe's thread,
/// so the child is told to go only once it surely has; the window closes
/// `settle` after the child says "done".
fn measure(script: &str, interval: Duration, settle: Duration) -> ProcessUsage {
    let (mut child, mut stdin, mut stdout) = python(script);
    let probe = Probe::start(watch(&child), Vec::new(), Instant::now(), interval);
    std::thread::sleep(Duration::from_millis(200));
    writeln!(stdin, "go").unwrap();
    expect_line(&mut stdout, "done");
    std::thread::sleep(settle);
    let report = probe.stop();
    child.kill().unwrap();
    child.wait().unwrap();
    report.processes.into_iter().next().unwrap()
}

fn watch(child: &Child) -> Vec<Watched> {
    vec![Watched {
        role: ProcessRole::Server,
        pid: child.id(),
    }]
}

#[test]
fn cpu_seconds_of_a_child_burning_one_second_are_within_15_percent() {
    let usage = &measure(
        "import sys, time\n\
         print('ready', flush=True)\n\
         sys.stdin.readline()\n\
         t0 = time.process_time()\n\
         while time.process_time() - t0 < 1.0:\n    pass\n\
         print('done', flush=True)\n\
         time.sleep(30)\n",
        Duration::from_millis(250),
        Duration::ZERO,
    );
    let cpu_s = usage.cpu_s();
    assert!(
        (0.85..=1.15).contains(&cpu_s),
        "measured {cpu_s} s of CPU for 1.0 s burnt: {usage:?}"
    );
    // Whatever else the machine does, the child cannot use more than the
    // window's worth of one core.
    assert!(
        usage.cpu_percent <= 105.0 && usage.cpu_percent > 30.0,
        "{usage:?}"
    );
    assert!(!usage.timeline.is_empty());
}

#[test]
fn peak_rss_of_a_child_holding_256_mib_is_within_10_percent() {
    const HELD: u64 = 256 << 20;
    let usage = measure(
        "import sys, time\n\
         print('ready', flush=True)\n\
         sys.stdin.readline()\n\
         block = b'x' * (256 << 20)\n\
         print('done', flush=True)\n\
         time.sleep(30)\n",
        Duration::from_millis(100),
        // Let at least a few samples see the block.
        Duration::from_millis(500),
    );
    let peak = usage.rss_peak_bytes;
    let error = (peak as f64 - HELD as f64).abs() / HELD as f64;
    assert!(
        error < 0.10,
        "peak RSS {peak} bytes for {HELD} held ({:.1}% off)",
        error * 100.0
    );
    assert!(
        usage.rss_avg_bytes < peak,
        "the average includes samples before the block"
    );
}

#[test]
fn bytes_a_child_writes_in_the_window_are_counted() {
    const WRITTEN: u64 = 8 << 20;
    let usage = &measure(
        "import sys, time\n\
         null = open('/dev/null', 'wb', buffering=0)\n\
         print('ready', flush=True)\n\
         sys.stdin.readline()\n\
         for _ in range(8):\n    null.write(b'x' * (1 << 20))\n\
         print('done', flush=True)\n\
         time.sleep(30)\n",
        Duration::from_millis(100),
        Duration::ZERO,
    );
    // The line printed adds a few bytes.
    let written = usage
        .io_written_bytes
        .expect("another process's I/O is read");
    assert!((WRITTEN..WRITTEN + 64).contains(&written), "{usage:?}");
    // The probe's own process is not given I/O figures: its /proc reads
    // would be counted.
    let own = Probe::start(
        vec![Watched {
            role: ProcessRole::Client,
            pid: std::process::id(),
        }],
        Vec::new(),
        Instant::now(),
        Duration::from_millis(50),
    );
    std::thread::sleep(Duration::from_millis(120));
    assert_eq!(own.stop().processes[0].io_written_bytes, None);
}

#[test]
fn the_cpu_set_of_a_pinned_child_is_read_back() {
    let available = CpuSet::current().unwrap();
    let last: CpuSet = available
        .cpus()
        .last()
        .unwrap()
        .to_string()
        .parse()
        .unwrap();
    let pin = last.clone();
    let mut command = Command::new("sleep");
    command.arg("5");
    // SAFETY: sched_setaffinity is async-signal-safe; nothing allocates.
    unsafe {
        command.pre_exec(move || pin.pin_current_thread());
    }
    let mut child = command.spawn().unwrap();
    let probe = Probe::start(
        watch(&child),
        vec![last.clone()],
        Instant::now(),
        Duration::from_millis(50),
    );
    std::thread::sleep(Duration::from_millis(120));
    let report = probe.stop();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(report.processes[0].cpus.as_ref(), Some(&last));
    let status = std::fs::read_to_string(format!("/proc/{}/status", std::process::id())).unwrap();
    assert!(
        status.contains("Cpus_allowed_list"),
        "the kernel exposes the list we read"
    );
}

#[test]
fn a_process_that_exits_mid_window_is_marked() {
    let mut child = Command::new("sleep").arg("0.3").spawn().unwrap();
    let probe = Probe::start(
        watch(&child),
        Vec::new(),
        Instant::now(),
        Duration::from_millis(50),
    );
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let report = probe.stop();
    assert!(report.processes[0].exited);
}

/// /proc/PID/stat's utime + stime, seconds (ticks).
fn proc_stat_cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name, which ends at the last ')'.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / wirebench_probe::ticks_per_second() as f64
}

#[test]
fn the_process_cpu_clock_agrees_with_proc_stat_over_a_long_window() {
    // 3 s of CPU, counted by the child itself, then idle: both readings
    // are then settled. /proc's utime and stime are each truncated to a
    // tick, so they fall short by up to two (20 ms: 0.7% of 3 s), never
    // over.
    let (mut child, mut stdin, mut stdout) = python(
        "import sys, time\n\
         print('ready', flush=True)\n\
         sys.stdin.readline()\n\
         t0 = time.process_time()\n\
         while time.process_time() - t0 < 3.0:\n    pass\n\
         print('done', flush=True)\n\
         time.sleep(30)\n",
    );
    writeln!(stdin, "go").unwrap();
    expect_line(&mut stdout, "done");
    let clock = wirebench_probe::process_now(child.id()).unwrap().cpu_s;
    let ticks = proc_stat_cpu_s(child.id());
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(ticks >= 2.9, "{ticks}");
    assert!(
        clock >= ticks && clock - ticks <= 0.01 * ticks,
        "clock {clock} s against /proc/PID/stat {ticks} s"
    );
}

#[test]
fn a_short_window_is_read_to_below_a_tick_exited_threads_included() {
    // In the window: a thread burns 30 ms of its own CPU and exits, then
    // the main thread burns 20 ms. Ticks would give a multiple of 10 ms
    // and lose nothing here only by luck; the clock gives nanoseconds and
    // keeps the exited thread's time.
    let usage = measure(
        "import sys, time, threading\n\
         def burn(s):\n    t0 = time.thread_time()\n    while time.thread_time() - t0 < s:\n        pass\n\
         print('ready', flush=True)\n\
         sys.stdin.readline()\n\
         t = threading.Thread(target=burn, args=(0.03,))\n\
         t.start(); t.join()\n\
         burn(0.02)\n\
         print('done', flush=True)\n\
         time.sleep(30)\n",
        Duration::from_millis(250),
        Duration::ZERO,
    );
    assert_eq!(
        usage.cpu_clock,
        Some(wirebench_probe::CpuClock::ProcessClock)
    );
    let cpu_ms = usage.cpu_s() * 1e3;
    assert!((50.0..500.0).contains(&cpu_ms), "{cpu_ms} ms: {usage:?}");
    let off_tick_ms = cpu_ms % 10.0;
    assert!(
        off_tick_ms > 0.001 && off_tick_ms < 9.999,
        "{cpu_ms} ms is a whole number of 10 ms ticks"
    );
}
