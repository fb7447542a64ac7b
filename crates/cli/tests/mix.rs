//! A weighted mix of calls and several targets, as users run them: the
//! example order service over four stacks with `bench --mix`, two agents
//! of one mix merged, `load URL1 URL2` and `--targets`, and the peers'
//! idioms (oha, hey, ghz) and outputs (Prometheus, the request log)
//! against real servers.

mod common;

use common::{Guard, read_json, run, run_ok, serve, wirebench};

const ORDERS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../examples/mix/orders.toml"
);

fn calls(trial: &serde_json::Value) -> Vec<(String, u64, u64)> {
    trial["calls"]
        .as_array()
        .expect("per-call results")
        .iter()
        .map(|c| {
            let errors: u64 = c["errors"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_u64().unwrap())
                .sum();
            (
                c["name"].as_str().unwrap().to_owned(),
                c["requests_ok"].as_u64().unwrap(),
                errors,
            )
        })
        .collect()
}

#[test]
fn the_order_mix_runs_on_every_stack_with_results_per_call_and_a_verdict_on_the_whole() {
    let (result, stdout) = common::bench_json(&[
        "--mix",
        ORDERS,
        "--stacks",
        "rest,rest-proto,grpc,grpc-json",
        "-n",
        "1000",
        "-c",
        "4",
        "--warmup",
        "0s",
        "--quiet",
    ]);
    let trials = result["trials"].as_array().unwrap();
    assert_eq!(trials.len(), 4);
    for trial in trials {
        let calls = calls(trial);
        let names: Vec<&str> = calls.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(names, ["GetOrder", "ListOrders", "CreateOrder", "Ping"]);
        assert_eq!(trial["requests_ok"], 1000, "{}", trial["stack"]);
        assert!(calls.iter().all(|c| c.2 == 0), "no errors: {calls:?}");
        // Each call's count is its share of the whole: 60/20/15/5.
        let ok: Vec<u64> = calls.iter().map(|c| c.1).collect();
        assert_eq!(ok.iter().sum::<u64>(), 1000);
        for (count, want) in ok.iter().zip([600, 200, 150, 50]) {
            assert!(count.abs_diff(want) <= 5, "{ok:?}");
        }
        assert_eq!(trial["variant"], "mix orders");
    }
    assert!(stdout.contains("per call"), "{stdout}");
    assert!(
        stdout.contains("(mix orders) is the cheapest"),
        "a decision on the whole mix: {stdout}"
    );
}

#[test]
fn two_agents_of_one_mix_merge_exactly() {
    let (server, addr) = serve("mix", "grpc", &["--mix", ORDERS]);
    let _server = Guard(server);
    let dir = tempfile::tempdir().unwrap();
    let mix = dir.path().join("orders.toml");
    let text = std::fs::read_to_string(ORDERS).unwrap().replace(
        "direction = ",
        &format!("url = \"grpc://{addr}\"\ndirection = "),
    );
    std::fs::write(&mix, text).unwrap();
    let mut parts = Vec::new();
    for shard in ["0/2", "1/2"] {
        let json = dir.path().join(format!("agent-{}.json", &shard[..1]));
        run_ok(
            wirebench()
                .args(["load", "--mix"])
                .arg(&mix)
                .args(["-n", "2000", "-c", "4", "--quiet", "--shard", shard])
                .arg("--json")
                .arg(&json),
        );
        parts.push(read_json(&json)["trials"][0].clone());
    }
    let merged = dir.path().join("merged.json");
    run_ok(
        wirebench()
            .arg("merge")
            .arg(dir.path().join("agent-0.json"))
            .arg(dir.path().join("agent-1.json"))
            .arg("-o")
            .arg(&merged),
    );
    let merged = read_json(&merged)["trials"][0].clone();
    assert_eq!(merged["requests_ok"], 2000);
    let (a, b, m) = (calls(&parts[0]), calls(&parts[1]), calls(&merged));
    for i in 0..4 {
        assert_eq!(m[i].1, a[i].1 + b[i].1, "{m:?} = {a:?} + {b:?}");
    }
    // The agents picked from the plan's one sequence: together, the
    // weights' shares.
    let ok: Vec<u64> = m.iter().map(|c| c.1).collect();
    for (count, want) in ok.iter().zip([1200, 400, 300, 100]) {
        assert!(count.abs_diff(want) <= 5, "{ok:?}");
    }
}

#[test]
fn several_urls_and_a_targets_file_give_results_per_target() {
    let (server, addr) = serve("payload", "rest", &[]);
    let _server = Guard(server);
    let small = format!("http://{addr}/payload?size_in_kb=1");
    let large = format!("http://{addr}/payload?size_in_kb=8");
    let trial = common::load_trial(&small, &[&large, "-n", "400", "-c", "4"]);
    let per = calls(&trial);
    assert_eq!(per.len(), 2);
    assert_eq!(per[0].0, small);
    assert_eq!(per[0].1 + per[1].1, 400);
    assert!(per[0].1.abs_diff(200) <= 2, "{per:?}");
    let bytes: Vec<u64> = trial["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["bytes_received"].as_u64().unwrap() / c["requests_ok"].as_u64().unwrap())
        .collect();
    // Each target checked by its own contract: 1 and 8 KiB of data, in
    // the JSON that carries it.
    assert!((1024..1100).contains(&bytes[0]), "{bytes:?}");
    assert!((8192..8300).contains(&bytes[1]), "{bytes:?}");

    let dir = tempfile::tempdir().unwrap();
    let targets = dir.path().join("targets.txt");
    std::fs::write(
        &targets,
        format!(
            "# vegeta's format\nGET {small}\nX-Trace: 1\n\nPOST http://{addr}/echo\n@body.json\n"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("body.json"), "{\"data\": \"hello\"}").unwrap();
    let json = dir.path().join("r.json");
    run_ok(
        wirebench()
            .args(["load", "--targets"])
            .arg(&targets)
            .args(["-n", "300", "--quiet", "--json"])
            .arg(&json),
    );
    let per = calls(&read_json(&json)["trials"][0]);
    assert_eq!(per.len(), 2);
    assert!(per.iter().all(|c| c.2 == 0 && c.1 > 100), "{per:?}");
}

#[test]
fn bad_mixes_are_named_by_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let mix = dir.path().join("bad.toml");
    for (text, words) in [
        (
            "[[call]]\nname = \"a\"\nshape = \"order\"\n\n[[call]]\nname = \"b\"\nweight = -1\nshape = \"tiny\"\n",
            "line 5",
        ),
        (
            "[[call]]\nname = \"a\"\nshape = \"order\"\n[[call]]\nname = \"a\"\nshape = \"tiny\"\n",
            "a second call named 'a'",
        ),
        ("[[call]]\nname = \"a\"\nmessage = \"x.Y\"\n", "needs proto"),
        (
            "[[call]]\nname = \"a\"\nshape = \"orders\"\n",
            "unknown shape",
        ),
    ] {
        std::fs::write(&mix, text).unwrap();
        let (ok, said) = run(wirebench()
            .args(["bench", "--mix"])
            .arg(&mix)
            .args(["-n", "10"]));
        assert!(!ok && said.contains(words), "{words}: {said}");
    }
    // One call too many: refused when the file is read, by every command
    // that reads one.
    let too_many: String = (0..65)
        .map(|i| {
            format!("[[call]]\nname = \"c{i}\"\nshape = \"tiny\"\nurl = \"http://127.0.0.1:1\"\n")
        })
        .collect();
    std::fs::write(&mix, too_many).unwrap();
    for command in [
        &["bench", "-n", "10"][..],
        &["serve", "mix", "--stack", "rest"],
        &["load", "-n", "10"],
    ] {
        let (ok, said) = run(wirebench().args(command).arg("--mix").arg(&mix));
        assert!(
            !ok && said.contains("65 calls; a mix has at most 64"),
            "{command:?}: {said}"
        );
    }
}

#[test]
fn the_peers_idioms_work_or_say_what_to_write() {
    let (server, addr) = serve("payload", "rest", &[]);
    let _server = Guard(server);
    let (grpc, grpc_addr) = serve("payload", "grpc", &[]);
    let _grpc = Guard(grpc);
    let dir = tempfile::tempdir().unwrap();
    // oha: -z for the duration, -q for the rate.
    let url = format!("http://{addr}/payload?size_in_kb=1");
    let trial = common::load_trial(&url, &["-z", "1s", "-q", "100", "-c", "10"]);
    assert_eq!(trial["model"]["kind"], "rate", "{}", trial["model"]);
    assert!(
        trial["requests_ok"].as_u64().unwrap() >= 95,
        "{}",
        trial["requests_ok"]
    );
    // hey: -m for the method, -D for the body file.
    let body = dir.path().join("body.json");
    std::fs::write(&body, "{\"data\": \"order 1\"}").unwrap();
    let echo = format!("http://{addr}/echo");
    let body_arg = body.display().to_string();
    let trial = common::load_trial(
        &echo,
        &["-n", "200", "-c", "10", "-m", "POST", "-D", &body_arg],
    );
    assert_eq!(trial["requests_ok"], 200);
    // ghz: host:port, --insecure for plaintext, -m metadata: refused
    // with what to write, then written so.
    let ghz = [
        "--call",
        "payload.PayloadService/GetLargePayload",
        "-d",
        "{\"size_in_kb\": 1}",
        "-m",
        "{\"tenant\": \"a\"}",
        "-n",
        "200",
        "-c",
        "10",
    ];
    let (ok, said) = run(wirebench()
        .arg("load")
        .args(ghz)
        .args(["--insecure", &grpc_addr]));
    assert!(
        !ok && said.contains(&format!("grpc://{grpc_addr}")),
        "{said}"
    );
    let trial = common::load_trial(&format!("grpc://{grpc_addr}"), &ghz);
    assert_eq!(trial["requests_ok"], 200);
    // ghz's config file, as a ghz user has it, with --skipFirst: 200
    // sent, the first 50 not tallied.
    let config = dir.path().join("ghz.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"host": "{grpc_addr}", "insecure": true, "call": "payload.PayloadService/GetLargePayload",
                "data": {{"size_in_kb": 1}}, "metadata": {{"tenant": "a"}}, "total": 200,
                "concurrency": 10, "skipFirst": 50}}"#
        ),
    )
    .unwrap();
    let config_arg = config.display().to_string();
    let dir_out = tempfile::tempdir().unwrap();
    let json = dir_out.path().join("r.json");
    run_ok(
        wirebench()
            .args(["load", "--config", &config_arg, "--quiet", "--json"])
            .arg(&json),
    );
    let trial = read_json(&json)["trials"][0].clone();
    assert_eq!(trial["requests_ok"], 150, "{trial}");
    assert_eq!(trial["stack"], "grpc");
    // --skip-first 0 < n is checked: skipping all is refused.
    let (ok, said) = run(wirebench().args(["load", "--config", &config_arg, "--skipFirst", "200"]));
    assert!(!ok && said.contains("would skip every one"), "{said}");
    // ghz's templates.
    let trial = common::load_trial(
        &format!("http://{addr}/payload?size_in_kb=1&n={{{{.RequestNumber}}}}"),
        &["-n", "20"],
    );
    assert_eq!(trial["requests_ok"], 20);
    // hey's and oha's --disable-keepalive: a connection per request.
    let trial = common::load_trial(&url, &["-n", "30", "--disable-keepalive"]);
    assert_eq!(trial["requests_ok"], 30);
}

#[test]
fn the_request_log_has_a_line_per_request_and_prometheus_output_parses() {
    let (server, addr) = serve("payload", "rest", &[]);
    let _server = Guard(server);
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let prom = dir.path().join("result.prom");
    let url = format!("http://{addr}/payload?size_in_kb=1");
    run_ok(
        wirebench()
            .args([
                "load",
                &url,
                "-n",
                "250",
                "-c",
                "5",
                "--quiet",
                "--log-requests",
            ])
            .arg(&log)
            .arg("-o")
            .arg(&prom),
    );
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 250);
    assert!(
        lines
            .iter()
            .all(|l| l["status"] == "ok" && l["bytes"].as_u64().unwrap() > 1024),
        "{:?}",
        lines[0]
    );
    let text = std::fs::read_to_string(&prom).unwrap();
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).unwrap();
    let ok = scrape
        .samples
        .iter()
        .find(|s| s.metric == "wirebench_requests_total")
        .expect("requests");
    assert!(matches!(ok.value, prometheus_parse::Value::Counter(v) if v == 250.0));
    // Bounded: past --log-requests-max, counted but not logged.
    run_ok(
        wirebench()
            .args([
                "load",
                &url,
                "-n",
                "100",
                "--quiet",
                "--log-requests-max",
                "40",
                "--log-requests",
            ])
            .arg(&log),
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 40);
}
