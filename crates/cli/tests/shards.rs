//! Load agents of one plan (`--shard I/N`, `--start-in`) as separate
//! processes against one real server, and `wirebench merge` adding up
//! what they measured: the agents' requests add up to the plan's, and the
//! merged result is exact.

mod common;

use std::process::Stdio;

use common::agents::{check_agent, histogram, merge_logs};
use common::*;
use hdrhistogram::Histogram;

const RATE: u64 = 200;
const SECONDS: u64 = 2;

#[test]
fn agents_of_an_open_loop_add_up_to_the_plan_and_merge_exactly() {
    let (server, addr) = serve_payload("rest");
    let _server = Guard(server);
    let dir = tempfile::tempdir().unwrap();
    let agents = 3u32;
    let url = format!("http://{addr}/payload?size_in_kb=1");
    let rate = RATE.to_string();
    let seconds = format!("{SECONDS}s");
    let children: Vec<_> = (0..agents)
        .map(|index| {
            wirebench()
                .args(["load", &url, "--quiet", "--rate", &rate, "-t", &seconds])
                .args(["-c", "8", "--size-kb", "1", "--start-in", "2s"])
                // The Job's way: the index from the environment.
                .args(["--shard", &format!("auto/{agents}")])
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .arg("--json")
                .arg(dir.path().join(format!("agent-{index}.json")))
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let files: Vec<_> = (0..agents)
        .map(|i| dir.path().join(format!("agent-{i}.json")))
        .collect();
    let plan = RATE * SECONDS;
    let mut sum = 0;
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    for (index, file) in files.iter().enumerate() {
        let trial = &read_json(file)["trials"][0];
        let (ok, agent) = check_agent(trial, plan, u64::from(agents), &mut all);
        assert_eq!(agent, index as u64);
        sum += ok;
    }
    assert_eq!(sum, plan, "the agents' requests add up to R x D");

    let merged = dir.path().join("merged.json");
    let out = run_ok(wirebench().arg("merge").args(&files).arg("-o").arg(&merged));
    let merged = read_json(&merged);
    let trial = &merged["trials"][0];
    assert_eq!(trial["requests_ok"], plan, "{out}");
    assert_eq!(trial["agents"].as_array().unwrap().len(), agents as usize);
    assert_eq!(histogram(&trial["latency_histogram"]), all);
    assert!(trial["latency_uncorrected_histogram"].is_string());
    let per_second: u64 = trial["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["requests_ok"].as_u64().unwrap())
        .sum();
    assert_eq!(per_second, plan);
    // `report` and `compare` read a merged result like any other.
    let merged_path = dir.path().join("merged.json");
    run_ok(
        wirebench()
            .args(["report", "--format", "md"])
            .arg(&merged_path),
    );
    run_ok(
        wirebench()
            .arg("compare")
            .arg(&merged_path)
            .arg(&merged_path),
    );

    // Refused: a shard missing, a shard twice.
    let (ok, said) = run(wirebench().arg("merge").args(&files[..2]));
    assert!(
        !ok && said.contains("agent(s) [2] of 3 are missing"),
        "{said}"
    );
    let (ok, said) = run(wirebench()
        .arg("merge")
        .args([&files[0], &files[1], &files[1], &files[2]]));
    assert!(!ok && said.contains("are both agent 1 of 3"), "{said}");
}

#[test]
fn merge_reads_agents_logs_and_refuses_what_is_not_a_shard() {
    let (server, addr) = serve_payload("rest");
    let _server = Guard(server);
    let url = format!("http://{addr}/payload?size_in_kb=1");
    let mut logs = String::new();
    for index in 0..2 {
        logs += &run_ok(wirebench().args([
            "load",
            &url,
            "-n",
            "101",
            "-c",
            "4",
            "--size-kb",
            "1",
            "--shard",
            &format!("{index}/2"),
            "--json",
            "-",
        ]));
    }
    let output = merge_logs(&logs, &[]);
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("101"), "the 51 + 50 requests: {said}");

    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.json");
    run_ok(
        wirebench()
            .args([
                "load",
                &url,
                "--quiet",
                "-n",
                "10",
                "--size-kb",
                "1",
                "--json",
            ])
            .arg(&whole),
    );
    let (ok, said) = run(wirebench().arg("merge").arg(&whole));
    assert!(
        !ok && said.contains("not the result of one agent"),
        "{said}"
    );
    let (ok, said) = run(wirebench().args(["load", &url, "-c", "2", "--shard", "2/3"]));
    assert!(!ok && said.contains("would have nothing to do"), "{said}");
    let (ok, said) = run(wirebench()
        .args(["load", &url, "--shard", "auto/3"])
        .env_remove("JOB_COMPLETION_INDEX"));
    assert!(!ok && said.contains("JOB_COMPLETION_INDEX"), "{said}");
    let (ok, said) = run(wirebench().args(["load", &url, "--start-at", "2020-01-01T00:00:00Z"]));
    assert!(!ok && said.contains("passed"), "{said}");
}
