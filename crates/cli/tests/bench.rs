//! `wirebench bench` as a user runs it: real child servers on free loopback
//! ports, the result file, and no process left behind, however it ends.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn bench_compares_both_stacks_and_writes_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let marker = marker(1);
    let stdout = run_ok(
        wirebench()
            .args([
                "bench",
                "-n",
                "300",
                "-c",
                "10",
                "--size-kb",
                "64",
                "--warmup",
                "200ms",
            ])
            .args(["--max-size-kb", &marker, "--json"])
            .arg(&json),
    );
    for column in ["stack", "conns", "req/s", "p50", "p99", "srv CPU ms/req"] {
        assert!(stdout.contains(column), "{stdout}");
    }
    // The terminal's tables fit in 120 columns (`--wide` shows the rest).
    for line in stdout
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '└', '╞']))
    {
        assert!(line.chars().count() <= 120, "{line}");
    }
    // The decision: the cheapest of the two, with its cost at a rate.
    assert!(stdout.contains("is the cheapest"), "{stdout}");
    assert!(stdout.contains("cores at rate"), "{stdout}");
    // A verdict: a ratio, or (a window this short on a fast machine)
    // "too short to compare" with how long a run would do.
    assert!(
        stdout.contains("the requests per second of")
            || (stdout.contains("too short to compare throughput") && stdout.contains("run -t")),
        "no verdict: {stdout}"
    );

    let result = read_json(&json);
    assert_eq!(result["schema_version"], 1);
    assert!(result["run"]["command_line"].as_array().unwrap().len() > 3);
    assert!(result["run"]["machine"]["cpus"].as_u64().unwrap() >= 1);
    let trials = result["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 2);
    for (trial, stack, connections) in [(&trials[0], "rest", 10), (&trials[1], "grpc", 1)] {
        assert_eq!(trial["stack"], stack);
        assert_eq!(trial["workload"], "payload");
        assert_eq!(trial["model"]["kind"], "fixed");
        assert_eq!(trial["connections"], connections);
        assert_eq!(trial["requests_ok"], 300);
        assert_eq!(trial["errors"], serde_json::json!({}));
        assert!(trial["throughput_rps"].as_f64().unwrap() > 0.0);
        let latency = &trial["latency_us"];
        for field in ["min", "p50", "p90", "p99", "p999", "max"] {
            assert!(latency[field].as_u64().unwrap() > 0, "{stack} {field}");
        }
        assert!(latency["p50"].as_u64() <= latency["p99"].as_u64());
        assert!(!trial["latency_histogram"].as_str().unwrap().is_empty());
    }
    assert_eq!(trials[0]["bytes_received"], 300 * (64 * 1024 + 11));
    // The gRPC message: field tag, 3-byte length, the data.
    assert_eq!(trials[1]["bytes_received"], 300 * (64 * 1024 + 4));
    assert!(
        servers_with_marker(&marker).is_empty(),
        "bench left servers behind"
    );
}

#[test]
fn ctrl_c_and_sigterm_write_the_partial_result_and_leave_no_server() {
    for (i, sig) in [libc::SIGINT, libc::SIGTERM].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("partial.json");
        let marker = marker(2 + 5 * i as u64);
        let child = spawn(
            wirebench()
                .args([
                    "bench",
                    "-t",
                    "60s",
                    "-c",
                    "2",
                    "--size-kb",
                    "1",
                    "--warmup",
                    "0s",
                    "--quiet",
                ])
                .args(["--max-size-kb", &marker, "--json"])
                .arg(&json),
        );
        assert!(
            eventually(Duration::from_secs(15), || servers_with_marker(&marker)
                .len()
                == 1),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(1500));
        signal(&child, sig);
        let (output, elapsed) = wait_with_limit(child, Duration::from_secs(10));
        assert_eq!(
            output.status.code(),
            Some(130),
            "signal {sig}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(elapsed < Duration::from_secs(6), "took {elapsed:?} to stop");
        let result = read_json(&json);
        assert_eq!(result["run"]["interrupted"], true);
        let trials = result["trials"].as_array().unwrap();
        assert_eq!(trials.len(), 1, "only the interrupted first trial ran");
        assert_eq!(trials[0]["interrupted"], true);
        assert!(trials[0]["requests_ok"].as_u64().unwrap() > 0);
        assert!(
            eventually(Duration::from_secs(5), || servers_with_marker(&marker)
                .is_empty()),
            "servers left behind"
        );
    }
}

#[test]
fn servers_die_with_wirebench_even_on_kill_9() {
    let marker = marker(3);
    let dir = tempfile::tempdir().unwrap();
    let child = spawn(
        wirebench()
            .args(["bench", "-t", "60s", "-c", "2", "--size-kb", "1"])
            .args(["--max-size-kb", &marker, "--json"])
            .arg(dir.path().join("r.json")),
    );
    assert!(
        eventually(Duration::from_secs(15), || servers_with_marker(&marker)
            .len()
            == 1),
        "the server did not start"
    );
    signal(&child, libc::SIGKILL);
    let _ = wait_with_limit(child, Duration::from_secs(5));
    assert!(
        eventually(Duration::from_secs(5), || servers_with_marker(&marker)
            .is_empty()),
        "a server outlived wirebench"
    );
}

#[test]
fn presets_are_listed_and_bad_flags_are_refused_clearly() {
    let output = wirebench()
        .args(["bench", "--list-presets"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("seed-000"));
    let output = wirebench()
        .args(["bench", "-n", "10", "-t", "1s"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("give one"));
    let output = wirebench()
        .args(["bench", "--preset", "seed-999"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("no preset named"));
}
