//! The Kubernetes Job without a cluster: the container command and
//! environment of the Job that `wirebench k8s` prints, run unchanged as N
//! processes, each in its own network namespace with
//! `JOB_COMPLETION_INDEX` set as the Job controller sets it, against a
//! server in another namespace across a bridge (a real kernel network path,
//! MTU 1500, not loopback). Root only (CI runs as root).

mod common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::Duration;

use common::agents::{check_agent, histogram, merge_logs};
use common::*;
use hdrhistogram::Histogram;
use wirebench_netsim::netns::{Netns, Switch};

const AGENTS: usize = 3;
const RATE: u64 = 300;
const SECONDS: u64 = 3;
const PORT: u16 = 8000;

fn root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if !root {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("SKIPPED: network namespaces need root");
    }
    root
}

fn nft(ns: &Netns, args: &[&str]) -> String {
    run_ok(ns.command("nft").args(args))
}

/// The Job's one container: its command and args, and its env.
fn job_container(yaml: &str) -> (Vec<String>, Vec<(String, String)>) {
    let job: serde_json::Value = yaml
        .split("\n---\n")
        .map(|doc| doc.trim_start_matches("---\n"))
        .filter(|doc| !doc.trim().is_empty())
        .map(|doc| serde_yaml_ng::from_str::<serde_json::Value>(doc).unwrap())
        .find(|doc| doc["kind"] == "Job")
        .unwrap();
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let strings = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    let mut command = strings(&container["command"]);
    command.extend(strings(&container["args"]));
    let env = container["env"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    (command, env)
}

#[test]
fn the_jobs_agents_in_namespaces_add_up_to_the_plan_and_merge_exactly() {
    if !root() {
        return;
    }
    // Host 0 serves; hosts 1..=N are the agents.
    let switch = Switch::create(AGENTS + 1).unwrap();
    let (server_ns, server_addr) = switch.host(0);
    let (server, line) = start_listening_line(
        server_ns
            .command(env!("CARGO_BIN_EXE_wirebench"))
            .args(["serve", "payload", "--stack", "rest", "--workers", "1"])
            .args([
                "--bind",
                &server_addr.to_string(),
                "--port",
                &PORT.to_string(),
            ]),
    );
    let _server = Guard(server);
    assert!(line.contains(&format!("{server_addr}:{PORT}")), "{line}");
    // A counter per agent's address, on the server's side of the path.
    nft(server_ns, &["add", "table", "ip", "wb"]);
    nft(
        server_ns,
        &[
            "add",
            "chain",
            "ip",
            "wb",
            "in",
            "{ type filter hook input priority 0; }",
        ],
    );
    let agents: Vec<_> = (1..=AGENTS).map(|i| switch.host(i)).collect();
    for (_, addr) in &agents {
        let rule = format!("ip saddr {addr} tcp dport {PORT} counter");
        let words: Vec<&str> = rule.split(' ').collect();
        nft(
            server_ns,
            &[&["add", "rule", "ip", "wb", "in"], &words[..]].concat(),
        );
    }

    let url = format!("http://{server_addr}:{PORT}/payload?size_in_kb=1");
    let yaml = run_ok(wirebench().args([
        "k8s",
        "--agents",
        &AGENTS.to_string(),
        "--image",
        "wirebench:dev",
        "--start-in",
        "3s",
        "--",
        "load",
        &url,
        "--rate",
        &RATE.to_string(),
        "-t",
        &format!("{SECONDS}s"),
        "--size-kb",
        "1",
    ]));
    let (command, env) = job_container(&yaml);
    assert_eq!(command[0], "wirebench", "the image's binary");
    let children: Vec<_> = agents
        .iter()
        .enumerate()
        .map(|(index, (ns, _))| {
            ns.command(env!("CARGO_BIN_EXE_wirebench"))
                .args(&command[1..])
                .envs(env.iter().cloned())
                // What the Job controller sets in pod `index`.
                .env("JOB_COMPLETION_INDEX", index.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut logs = String::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let log = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{log}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        logs += &log;
    }

    // Each agent's own result, from its log.
    let results: Vec<serde_json::Value> = logs
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), AGENTS);
    let plan = RATE * SECONDS;
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
    let mut indexes = BTreeSet::new();
    for result in &results {
        let (_, index) = check_agent(&result["trials"][0], plan, AGENTS as u64, &mut all);
        indexes.insert(index);
    }
    assert_eq!(indexes, (0..AGENTS as u64).collect());

    // The server saw N distinct source addresses.
    let counters = nft(server_ns, &["list", "chain", "ip", "wb", "in"]);
    for (_, addr) in &agents {
        let line = counters
            .lines()
            .find(|l| l.contains(&format!("ip saddr {addr} ")))
            .unwrap_or_else(|| panic!("{addr} in {counters}"));
        let packets: u64 = line
            .split_whitespace()
            .skip_while(|w| *w != "packets")
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert!(packets > 0, "nothing from {addr}: {line}");
    }

    // Merged as `kubectl logs ... | wirebench merge -` would.
    let dir = tempfile::tempdir().unwrap();
    let merged_path = dir.path().join("merged.json");
    let output = merge_logs(&logs, &["-o".as_ref(), merged_path.as_os_str()]);
    let table = String::from_utf8_lossy(&output.stdout);
    println!("{table}");
    assert!(output.status.success(), "{table}");
    let merged = read_json(&merged_path);
    let trial = &merged["trials"][0];
    assert_eq!(trial["requests_ok"], plan, "R x D exactly");
    assert_eq!(
        histogram(&trial["latency_histogram"]),
        all,
        "the histogram of all samples"
    );
    assert_eq!(trial["agents"].as_array().unwrap().len(), AGENTS);
    for index in 0..AGENTS {
        assert!(
            table.contains(&format!("agent {index} of {AGENTS}")),
            "{table}"
        );
    }
}

#[test]
fn bench_netns_serves_across_a_veth_pair_and_says_so() {
    if !root() {
        return;
    }
    let (result, out) = bench_json(&[
        "--netns",
        "--stacks",
        "rest,grpc",
        "--workload",
        "pipeline",
        "-n",
        "300",
        "-c",
        "4",
    ]);
    for trial in result["trials"].as_array().unwrap() {
        assert_eq!(trial["requests_ok"], 300, "{out}");
        let path = trial["network_path"].as_str().unwrap();
        assert!(
            path.starts_with("veth 10.254.") && path.contains("MTU 1500"),
            "{path}"
        );
        // The servers bound the namespace's address, not loopback.
        assert!(
            trial["target"].as_str().unwrap().contains("10.254."),
            "{}",
            trial["target"]
        );
    }
    assert!(out.contains("network path: veth"), "{out}");
    let namespaces = run_ok(std::process::Command::new("ip").args(["netns", "list"]));
    let name = out
        .split("(namespace ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap();
    assert!(!namespaces.contains(name), "{name} removed: {namespaces}");
}

#[test]
fn loss_and_delay_are_the_kernel_paths_and_tcp_and_quic_recover() {
    if !root() {
        return;
    }
    // `loss=` turns --netns on by itself.
    let (result, out) = bench_json(&[
        "--stacks",
        "rest+tls,rest-h3",
        "--net",
        "latency=10ms,loss=3%",
        "-n",
        "200",
        "-c",
        "4",
        "--size-kb",
        "32",
    ]);
    for trial in result["trials"].as_array().unwrap() {
        // Every packet lost was sent again: no request failed.
        assert_eq!(trial["requests_ok"], 200, "{}: {out}", trial["stack"]);
        let path = trial["network_path"].as_str().unwrap();
        assert!(
            path.contains("TUN delay line holds every packet 10ms"),
            "{path}"
        );
        assert!(path.contains("drops 3% of packets"), "{path}");
        // One round trip at least: 2 x 10 ms, seen by the connection.
        assert!(
            trial["latency_us"]["min"].as_u64().unwrap() >= 20_000,
            "{}: {}",
            trial["stack"],
            trial["latency_us"]
        );
        assert_eq!(trial["net"], "latency=10ms,loss=3%");
    }
    let h3 = &result["trials"][1];
    assert!(h3["wire"].as_str().unwrap().contains("congestion control"));
    // Everything the path made is gone: devices, tables, namespace.
    let pid = out
        .split("(namespace wb")
        .nth(1)
        .and_then(|rest| rest.split('x').next())
        .unwrap();
    let links = run_ok(std::process::Command::new("ip").args(["link"]));
    assert!(!links.contains(&format!("wbv{pid}x")), "{links}");
    let tables = run_ok(std::process::Command::new("nft").args(["list", "tables"]));
    assert!(!tables.contains(&format!("wirebench_wbv{pid}")), "{tables}");
}

/// `kill -9` runs no drop: the namespace, the veth's near end and the
/// nftables table with its drop rule stay behind. The next run that makes
/// a path finds them by the dead pid in their names, removes them, and
/// says so.
#[test]
fn what_a_killed_run_left_behind_the_next_run_removes_and_names() {
    if !root() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut child = spawn(
        wirebench()
            .args(["bench", "--quiet", "--stacks", "rest", "--net", "loss=1%"])
            .args(["-t", "60s", "-c", "2", "--warmup", "0s", "--json"])
            .arg(dir.path().join("killed.json")),
    );
    let pid = child.id();
    let namespace = format!("/run/netns/wb{pid}x0-srv");
    let table = format!("wirebench_wbv{pid}x0d");
    let tables = || run_ok(std::process::Command::new("nft").args(["list", "tables"]));
    assert!(
        eventually(Duration::from_secs(30), || {
            std::path::Path::new(&namespace).exists() && tables().contains(&table)
        }),
        "the run made no path"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        std::path::Path::new(&namespace).exists(),
        "kill -9 ran no drop"
    );
    assert!(tables().contains(&table));

    let (_, out) = bench_json(&[
        "--stacks", "rest", "--netns", "-n", "20", "-c", "2", "--warmup", "0s",
    ]);
    assert!(out.contains("removed what dead runs left behind"), "{out}");
    assert!(out.contains(&format!("namespace wb{pid}x0-srv")), "{out}");
    assert!(
        out.contains(&format!("nftables table inet {table}")),
        "{out}"
    );
    assert!(!std::path::Path::new(&namespace).exists());
    assert!(!tables().contains(&table));
    let links = run_ok(std::process::Command::new("ip").args(["-o", "link", "show"]));
    assert!(!links.contains(&format!("wbv{pid}x")), "{links}");
}
