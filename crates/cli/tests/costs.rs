//! What each side costs, through `wirebench bench`: placement honoured,
//! per-process CPU and memory recorded, the client-bound verdict raised
//! when the load generator is starved and not under a light load, worker
//! scaling, and several server processes sharing a port.
//!
//! These tests measure CPU, so they run one at a time (a lock), and they
//! need two CPUs, as every machine of this project has.

mod common;

use std::process::{Child, Command};
use std::sync::Mutex;

use common::*;
use serde_json::Value;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn bench(args: &[&str]) -> Value {
    bench_json(args).0
}

fn role<'a>(trial: &'a Value, role: &str) -> Vec<&'a Value> {
    trial["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["role"] == role)
        .collect()
}

fn cpus() -> usize {
    let n = std::thread::available_parallelism().unwrap().get();
    assert!(n >= 2, "these tests need 2 CPUs; this machine gives {n}");
    n
}

/// CPU seconds the kernel charged to this process's reaped children (and
/// theirs): `bench` and the servers it started and waited for.
fn children_cpu_s() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage), 0);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

#[test]
fn every_trial_records_server_and_client_on_disjoint_cpus() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    cpus();
    let charged_before = children_cpu_s();
    let result = bench(&[
        "-n",
        "3000",
        "-c",
        "20",
        "--size-kb",
        "64",
        "--warmup",
        "300ms",
    ]);
    for trial in result["trials"].as_array().unwrap() {
        assert_eq!(trial["placement"]["pinned"], true);
        let server = role(trial, "server");
        let client = role(trial, "client");
        assert_eq!((server.len(), client.len()), (1, 1));
        let (server, client) = (server[0], client[0]);
        let server_cpus: wirebench_probe::CpuSet =
            server["cpus"].as_str().unwrap().parse().unwrap();
        let client_cpus: wirebench_probe::CpuSet =
            client["cpus"].as_str().unwrap().parse().unwrap();
        assert!(
            !server_cpus.overlaps(&client_cpus),
            "{server_cpus} vs {client_cpus}"
        );
        assert_eq!(trial["placement"]["server_cpus"], server["cpus"]);
        for p in [server, client] {
            let cpu = p["cpu_user_s"].as_f64().unwrap() + p["cpu_system_s"].as_f64().unwrap();
            assert!(cpu > 0.0, "{p}");
            assert!(p["rss_peak_bytes"].as_u64().unwrap() > 1 << 20);
            assert!(p["threads_max"].as_u64().unwrap() >= 1);
        }
        let costs = &trial["costs"];
        assert!(costs["server_cpu_ms_per_request"].as_f64().unwrap() > 0.0);
        assert!(costs["client_cpu_ms_per_request"].as_f64().unwrap() > 0.0);
    }
    // Against the kernel's own accounting, read apart from the probe: the
    // CPU the probe found in the windows is at most what the kernel charged
    // to bench and its servers over their whole lives (start-up, warm-up
    // and reports included), and not a small part of it.
    let charged = children_cpu_s() - charged_before;
    let probed: f64 = result["trials"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["processes"].as_array().unwrap())
        .map(|p| p["cpu_user_s"].as_f64().unwrap() + p["cpu_system_s"].as_f64().unwrap())
        .sum();
    assert!(
        probed <= charged * 1.01 + 0.01,
        "the probe found {probed:.3} s, the kernel charged {charged:.3} s"
    );
    assert!(
        probed >= 0.2 * charged,
        "the probe found {probed:.3} s of {charged:.3} s charged"
    );
}

#[test]
fn client_bound_is_raised_when_the_load_generator_is_starved() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    cpus();
    // Two CPU burners share the load generator's CPU 0.
    let burners: Vec<Child> = (0..2)
        .map(|_| {
            Command::new("python3")
                .args([
                    "-c",
                    "import os\nos.sched_setaffinity(0, {0})\nwhile True: pass",
                ])
                .spawn()
                .unwrap()
        })
        .collect();
    let result = bench(&[
        "--client-cpus",
        "0",
        "--server-cpus",
        "1",
        "--stacks",
        "rest",
        "-t",
        "2s",
        "--warmup",
        "500ms",
        "-c",
        "10",
        "--size-kb",
        "1",
    ]);
    for mut burner in burners {
        burner.kill().unwrap();
        burner.wait().unwrap();
    }
    let trial = &result["trials"][0];
    assert_eq!(trial["costs"]["client_bound"], true, "{}", trial["costs"]);
    assert!(trial["costs"]["client_cpus_busy_percent"].as_f64().unwrap() >= 90.0);
}

/// At 50 requests a second the load generator uses little of its CPU:
/// the trial is client-bound only when others took that CPU (a busy
/// machine), and then it says so with the CPU set's busyness.
#[test]
fn a_light_load_is_client_bound_only_when_others_take_its_cpu() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    cpus();
    let result = bench(&[
        "--rate",
        "50",
        "-t",
        "2s",
        "--warmup",
        "300ms",
        "-c",
        "4",
        "--size-kb",
        "1",
    ]);
    for trial in result["trials"].as_array().unwrap() {
        let costs = &trial["costs"];
        let own = costs["client_cpu_percent"].as_f64().unwrap();
        assert!(own < 50.0, "{costs}");
        let set_busy = costs["client_cpus_busy_percent"].as_f64().unwrap();
        assert_eq!(costs["client_bound"] == true, set_busy >= 90.0, "{costs}");
        assert_eq!(costs["server_saturated"], false, "{costs}");
        assert!(trial["requests_ok"].as_u64().unwrap() >= 95);
    }
}

#[test]
fn workers_one_and_two_run_four_trials() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("w.json");
    let stdout = run_ok(
        wirebench()
            .args([
                "bench",
                "--workers",
                "1,2",
                "-n",
                "500",
                "-c",
                "8",
                "--size-kb",
                "4",
                "--warmup",
                "200ms",
                "--json",
            ])
            .arg(&json),
    );
    for label in ["rest w1", "grpc w1", "rest w2", "grpc w2"] {
        assert!(stdout.contains(label), "{label} missing:\n{stdout}");
    }
    let result = read_json(&json);
    let trials = result["trials"].as_array().unwrap();
    let configs: Vec<(String, u64)> = trials
        .iter()
        .map(|t| {
            (
                t["stack"].as_str().unwrap().to_owned(),
                t["server_workers"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        configs,
        [
            ("rest".into(), 1),
            ("grpc".into(), 1),
            ("rest".into(), 2),
            ("grpc".into(), 2)
        ]
    );
    for trial in trials {
        let threads = role(trial, "server")[0]["threads_max"].as_u64().unwrap();
        // tokio workers plus the main thread (and tokio's blocking pool).
        assert!(
            threads > trial["server_workers"].as_u64().unwrap(),
            "{threads}"
        );
    }
}

#[test]
fn two_server_processes_share_the_port_and_both_serve() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let result = bench(&[
        "--server-processes",
        "2",
        "--stacks",
        "rest",
        "-n",
        "2000",
        "-c",
        "20",
        "--size-kb",
        "4",
        "--warmup",
        "200ms",
    ]);
    let trial = &result["trials"][0];
    assert_eq!(trial["server_processes"], 2);
    let servers = role(trial, "server");
    assert_eq!(servers.len(), 2);
    assert_ne!(servers[0]["pid"], servers[1]["pid"]);
    for server in servers {
        let cpu = server["cpu_user_s"].as_f64().unwrap() + server["cpu_system_s"].as_f64().unwrap();
        assert!(cpu > 0.0, "a server process did no work: {server}");
    }
    assert_eq!(trial["requests_ok"], 2000);
}
