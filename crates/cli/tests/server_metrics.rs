//! A server measured from afar: `serve --metrics` exposes Prometheus text,
//! and `load --server-metrics URL` derives the server's CPU per request,
//! CPU% and memory from it. On the same run, the local probe of the same
//! process (`--server-pid`) must agree within 5% (the two read the same
//! process CPU clock at slightly different instants: an HTTP round trip
//! apart, which a busy machine stretches), and neither may find more CPU
//! than /proc's own counters, read by this test apart from both, show for
//! a window that holds theirs.

mod common;

use std::process::Command;

use common::*;

/// /proc/PID/stat's utime + stime, seconds.
fn proc_stat_cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / wirebench_probe::ticks_per_second() as f64
}

/// `serve ... --metrics 0`: the child, its address, its metrics URL.
fn serve_with_metrics(stack: &str) -> (Guard, String, String) {
    let mut command = wirebench();
    command
        .args(["serve", "payload", "--stack", stack, "--port", "0"])
        .args(["--workers", "1", "--metrics", "0"]);
    let (child, line) = start_listening_line(&mut command);
    // Killed on drop even if the line below is not what is expected.
    let child = Guard(child);
    let addr = line.split_whitespace().nth(2).unwrap().to_owned();
    let url = line
        .split_whitespace()
        .map(|w| w.trim_end_matches(','))
        .find(|w| w.starts_with("http://") && w.ends_with("/metrics"))
        .unwrap_or_else(|| panic!("no metrics URL in: {line}"))
        .to_owned();
    (child, addr, url)
}

#[test]
fn metrics_from_afar_agree_with_the_local_probe() {
    for (stack, target) in [
        ("rest", "http://{}/payload?size_in_kb=16"),
        ("grpc", "grpc://{}"),
    ] {
        let (server, addr, metrics) = serve_with_metrics(stack);
        let text = run_ok(Command::new("curl").args(["-s", &metrics]));
        for name in [
            "process_cpu_seconds_total",
            "process_resident_memory_bytes",
            "process_threads",
        ] {
            assert!(text.contains(name), "{name} in {text}");
        }
        let pid = server.0.id().to_string();
        let ticks_before = proc_stat_cpu_s(server.0.id());
        let trial = load_trial(
            &target.replace("{}", &addr),
            &[
                "-c",
                "8",
                "-t",
                "3s",
                "--size-kb",
                "16",
                "--server-pid",
                &pid,
                "--server-metrics",
                &metrics,
            ],
        );
        let ticks = proc_stat_cpu_s(server.0.id()) - ticks_before;
        let probed = trial["costs"]["server_cpu_ms_per_request"]
            .as_f64()
            .unwrap();
        let remote = &trial["server_metrics"][0];
        let ok = trial["requests_ok"].as_f64().unwrap();
        let from_afar = remote["cpu_s"].as_f64().unwrap() * 1000.0 / ok;
        let ratio = from_afar / probed;
        assert!(
            (0.95..=1.05).contains(&ratio),
            "{stack}: CPU per request {from_afar:.4} ms from the metrics, {probed:.4} ms from the probe"
        );
        // /proc's ticks over a window that holds the measured one (plus
        // load's start and end): each reading is exact to a tick (10 ms).
        for (source, cpu_s) in [
            ("metrics", remote["cpu_s"].as_f64().unwrap()),
            ("probe", probed * ok / 1000.0),
        ] {
            assert!(
                cpu_s <= ticks + 0.02,
                "{stack}: {cpu_s:.3} s of CPU from the {source}, /proc counted {ticks:.3} s"
            );
        }
        let percent = trial["costs"]["server_cpu_percent"].as_f64().unwrap();
        let remote_percent = remote["cpu_percent"].as_f64().unwrap();
        assert!(
            (remote_percent / percent - 1.0).abs() <= 0.05,
            "{stack}: CPU {remote_percent:.1}% from the metrics, {percent:.1}% from the probe"
        );
        // The server counted what the client counted (and the few requests
        // of the window's edges).
        let handled = remote["requests"].as_f64().unwrap();
        assert!(
            (handled / ok - 1.0).abs() <= 0.1,
            "{stack}: {handled} handled, {ok} ok"
        );
        let rss = remote["rss_bytes"].as_f64().unwrap();
        let probed_rss = trial["costs"]["server_rss_peak_bytes"].as_f64().unwrap();
        assert!(
            (rss / probed_rss - 1.0).abs() <= 0.1,
            "{stack}: RSS {rss} vs {probed_rss}"
        );
    }
}

#[test]
fn without_a_local_probe_the_costs_come_from_the_metrics() {
    let (_server, addr, metrics) = serve_with_metrics("rest");
    let trial = load_trial(
        &format!("http://{addr}/payload?size_in_kb=4"),
        &[
            "-c",
            "4",
            "-t",
            "2s",
            "--size-kb",
            "4",
            "--server-metrics",
            &metrics,
        ],
    );
    assert!(
        trial["costs"]["server_cpu_ms_per_request"]
            .as_f64()
            .unwrap()
            > 0.0,
        "{trial}"
    );
    assert!(trial["costs"]["server_rss_peak_bytes"].as_u64().unwrap() > 0);
    assert!(
        trial["costs"]["server_bytes_written_per_request"]
            .as_f64()
            .unwrap()
            > 4096.0
    );
    let (ok, said) = run(wirebench().args([
        "load",
        &format!("http://{addr}/payload?size_in_kb=4"),
        "--server-metrics",
        "http://127.0.0.1:1/metrics",
    ]));
    assert!(!ok && said.contains("cannot connect"), "{said}");
}

#[test]
fn bench_measures_servers_it_did_not_start() {
    let (_rest, rest, rest_metrics) = serve_with_metrics("rest");
    let (_grpc, grpc, grpc_metrics) = serve_with_metrics("grpc");
    let (result, out) = bench_json(&[
        "--stacks",
        "rest,grpc",
        "--target",
        &format!("rest=http://{rest},grpc=grpc://{grpc}"),
        "--server-metrics",
        &format!("rest={rest_metrics}"),
        "--server-metrics",
        &format!("grpc={grpc_metrics}"),
        "-n",
        "2000",
        "-c",
        "4",
        "--size-kb",
        "4",
    ]);
    for trial in result["trials"].as_array().unwrap() {
        let stack = trial["stack"].as_str().unwrap();
        assert_eq!(trial["requests_ok"], 2000, "{stack}: {out}");
        let addr = if stack == "rest" { &rest } else { &grpc };
        assert!(
            trial["target"].as_str().unwrap().contains(addr.as_str()),
            "{}",
            trial["target"]
        );
        // Nothing of bench's own was started: no server was probed, and the
        // servers' figures are their endpoints'.
        assert!(
            trial["processes"]
                .as_array()
                .unwrap()
                .iter()
                .all(|p| p["role"] == "client"),
            "{stack}"
        );
        let metrics = &trial["server_metrics"][0];
        // The readings are taken at the window's edges, a scrape's time
        // apart from them.
        let handled = metrics["requests"].as_f64().unwrap();
        assert!((handled / 2000.0 - 1.0).abs() < 0.05, "{stack}: {metrics}");
        assert!(
            trial["costs"]["server_cpu_ms_per_request"]
                .as_f64()
                .unwrap()
                > 0.0
        );
    }
}

/// The metrics port has the traffic port's deadlines: a scraper that
/// sends half a request is cut at the header timeout, one that sends
/// nothing at the idle timeout.
#[test]
fn the_metrics_endpoint_cuts_slow_and_idle_clients() {
    use std::io::{Read, Write};
    let mut command = wirebench();
    command
        .args(["serve", "payload", "--stack", "rest", "--port", "0"])
        .args([
            "--metrics",
            "0",
            "--header-timeout",
            "1s",
            "--idle-timeout",
            "2s",
        ]);
    let (child, line) = start_listening_line(&mut command);
    let _server = Guard(child);
    let metrics = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    for (sends, limit_s) in [(&b"GET /metr"[..], 1.0), (&b""[..], 2.0)] {
        let mut stream = std::net::TcpStream::connect(&metrics).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let started = std::time::Instant::now();
        stream.write_all(sends).unwrap();
        let mut buffer = [0u8; 256];
        // Closed by the server: EOF (or a reset), not the 10 s read timeout.
        let closed = loop {
            match stream.read(&mut buffer) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    break false;
                }
                Err(_) => break true,
            }
        };
        let took = started.elapsed().as_secs_f64();
        assert!(closed, "{sends:?}: still open after {took:.1} s");
        assert!(
            (limit_s - 0.5..limit_s + 1.5).contains(&took),
            "{sends:?}: closed after {took:.1} s, the deadline is {limit_s} s"
        );
    }
}
