//! Seed 002's pipeline as a user runs it: three `wirebench serve pipeline`
//! processes per stack, the seed's own commands, a producer killed and
//! brought back, and `bench --workload pipeline`.

mod common;

use std::time::{Duration, Instant};

use common::*;

/// A pipeline role, killed on drop.
struct Role {
    _child: Guard,
    addr: String,
}

/// A certificate and its key on disk.
type CertFiles = (std::path::PathBuf, std::path::PathBuf);

fn serve(stack: &str, role: &str, port: &str, upstream: Option<&str>) -> Role {
    serve_with(stack, role, port, upstream, None)
}

/// `serve_with(.., Some(cert))`: a `+tls` role presenting `cert` (and, for
/// processor and aggregator, trusting only it upstream); a `+tls` role
/// without one makes its own self-signed certificate.
fn serve_with(
    stack: &str,
    role: &str,
    port: &str,
    upstream: Option<&str>,
    cert: Option<&CertFiles>,
) -> Role {
    let mut command = wirebench();
    command.args(["serve", "pipeline", "--stack", stack, "--role", role]);
    command.args(["--port", port, "--workers", "1", "--hop-timeout", "2s"]);
    if let Some((cert, key)) = cert {
        command
            .arg("--tls-cert")
            .arg(cert)
            .arg("--tls-key")
            .arg(key);
    }
    if let Some(upstream) = upstream {
        command.args(["--upstream", upstream]);
    }
    let (child, addr) = start_listening(&mut command);
    Role {
        _child: Guard(child),
        addr,
    }
}

/// `wirebench load ARGS`: whether it ran to the end (exit 0, or 98 when
/// no request succeeded, which some tests mean), and what it printed.
fn load(args: &[&str]) -> (bool, String, String) {
    let output = wirebench().arg("load").args(args).output().unwrap();
    (
        matches!(output.status.code(), Some(0 | 98)),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `wirebench load` arguments that ask `stack`'s aggregator for one summary.
fn aggregate_args(stack: &str, aggregator: &str) -> Vec<String> {
    let plain = stack.trim_end_matches("+tls");
    let tls = plain != stack;
    let s = if tls { "s" } else { "" };
    let mut args: Vec<String> = match plain {
        "rest" => vec![format!("http{s}://{aggregator}/aggregate")],
        "rest-h2" => vec![
            format!("http{s}://{aggregator}/aggregate"),
            "--http2".into(),
        ],
        "rest-proto" => vec![
            format!("http{s}://{aggregator}/aggregate"),
            "-H".into(),
            "Accept: application/x-protobuf".into(),
        ],
        "grpc" | "grpc-json" => vec![
            format!("grpc{s}://{aggregator}"),
            "--call".into(),
            "AggregatorService.Aggregate".into(),
        ],
        "tcp" => vec![format!("tcp{s}://{aggregator}/aggregate")],
        other => panic!("no such stack {other}"),
    };
    if plain == "grpc-json" {
        args.push("--grpc-json".into());
    }
    args
}

fn one_request(stack: &str, aggregator: &str, json: &std::path::Path) -> serde_json::Value {
    one_request_with(stack, aggregator, json, &[])
}

fn one_request_with(
    stack: &str,
    aggregator: &str,
    json: &std::path::Path,
    extra: &[&str],
) -> serde_json::Value {
    let started = Instant::now();
    let mut args = aggregate_args(stack, aggregator);
    args.extend(["-n", "1", "-c", "1", "--json"].map(String::from));
    args.push(json.to_str().unwrap().to_owned());
    args.extend(extra.iter().map(|a| a.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, _, stderr) = load(&args);
    assert!(ok, "{stderr}");
    let trial = read_json(json)["trials"][0].clone();
    assert!(started.elapsed() < Duration::from_secs(5));
    trial
}

/// The error kind a client sees when the pipeline behind `stack` is broken.
fn unavailable_kind(stack: &str) -> &'static str {
    if stack.starts_with("grpc") {
        "unavailable"
    } else {
        "status"
    }
}

#[test]
fn a_dead_producer_gives_fast_errors_and_traffic_resumes_when_it_returns() {
    for stack in ["rest", "rest-h2", "rest-proto", "grpc", "grpc-json", "tcp"] {
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("one.json");
        let producer = serve(stack, "producer", "0", None);
        let producer_addr = producer.addr.clone();
        let processor = serve(stack, "processor", "0", Some(&producer_addr));
        let aggregator = serve(stack, "aggregator", "0", Some(&processor.addr));

        let trial = one_request(stack, &aggregator.addr, &json);
        assert_eq!(trial["requests_ok"], 1, "{stack}: {trial}");
        assert_eq!(trial["workload"], "pipeline", "{stack}");

        drop(producer); // SIGKILL
        let trial = one_request(stack, &aggregator.addr, &json);
        assert_eq!(trial["requests_ok"], 0, "{stack}");
        let kind = unavailable_kind(stack);
        assert_eq!(trial["errors"][kind], 1, "{stack}: {}", trial["errors"]);
        let example = trial["error_examples"][kind].as_str().unwrap();
        assert!(
            example.contains("producer") && example.to_lowercase().contains("unavailable"),
            "{stack}: {example}"
        );
        if stack.starts_with("rest") {
            assert!(example.contains("503"), "{example}");
        }
        assert!(trial["latency_us"]["max"].as_u64().unwrap() < 1_000_000);
        assert!(
            trial["duration_s"].as_f64().unwrap() < 1.0,
            "{stack}: the error took too long"
        );

        // Back on the same port: no restart of processor or aggregator.
        let port = producer_addr.rsplit(':').next().unwrap();
        let _producer = serve(stack, "producer", port, None);
        let recovered = (0..20).any(|_| {
            std::thread::sleep(Duration::from_millis(250));
            one_request(stack, &aggregator.addr, &json)["requests_ok"] == 1
        });
        assert!(recovered, "{stack}: traffic did not resume");
    }
}

#[test]
fn tls_hops_check_the_next_services_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let key = wirebench_server::tls::CertifiedKey::self_signed().unwrap();
    let files = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&files.0, &key.cert_pem).unwrap();
    std::fs::write(&files.1, &key.key_pem).unwrap();
    let cacert = files.0.to_str().unwrap().to_owned();
    let json = dir.path().join("one.json");
    // Processor and aggregator presenting (and trusting) `files`, in front
    // of the producer at `producer`; one request through them.
    let through = |stack: &str, producer: &str| {
        let processor = serve_with(stack, "processor", "0", Some(producer), Some(&files));
        let aggregator = serve_with(
            stack,
            "aggregator",
            "0",
            Some(&processor.addr),
            Some(&files),
        );
        one_request_with(stack, &aggregator.addr, &json, &["--cacert", &cacert])
    };
    for stack in ["rest+tls", "grpc+tls", "tcp+tls"] {
        // All three share one certificate: the pipeline works end to end.
        let producer = serve_with(stack, "producer", "0", None, Some(&files));
        let trial = through(stack, &producer.addr);
        assert_eq!(trial["requests_ok"], 1, "{stack}: {}", trial["errors"]);

        // A producer with a certificate the processor does not trust: the
        // hop's handshake fails, and the client hears which service and why.
        let stranger = serve_with(stack, "producer", "0", None, None);
        let trial = through(stack, &stranger.addr);
        assert_eq!(trial["requests_ok"], 0, "{stack}");
        let kind = unavailable_kind(stack);
        let example = trial["error_examples"][kind].as_str().unwrap_or_default();
        assert!(
            example.contains("producer") && example.contains("certificate"),
            "{stack}: {}",
            trial["error_examples"]
        );

        // A plain producer behind a +tls processor is refused too.
        let plain = serve(stack.trim_end_matches("+tls"), "producer", "0", None);
        let trial = through(stack, &plain.addr);
        assert_eq!(
            trial["requests_ok"], 0,
            "{stack}: a plain hop must not pass"
        );
    }
}

#[test]
fn a_tls_processor_must_be_told_whom_to_trust() {
    let output = wirebench()
        .args([
            "serve",
            "pipeline",
            "--stack",
            "grpc+tls",
            "--role",
            "processor",
        ])
        .args(["--port", "0", "--upstream", "127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--upstream-ca"), "{stderr}");
}

#[test]
fn the_seeds_ghz_call_and_dynamic_calls_work() {
    let producer = serve("grpc", "producer", "0", None);
    let processor = serve("grpc", "processor", "0", Some(&producer.addr));
    let aggregator = serve("grpc", "aggregator", "0", Some(&processor.addr));
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("seed.json");
    // The seed's form: ghz --call AggregatorService.Aggregate -n 1000 -c 50
    let (ok, stdout, stderr) = load(&[
        &format!("grpc://{}", aggregator.addr),
        "--call",
        "AggregatorService.Aggregate",
        "-n",
        "1000",
        "-c",
        "50",
        "--json",
        json.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("checksum"),
        "the answers are checked: {stdout}"
    );
    let trial = &read_json(&json)["trials"][0];
    assert_eq!(
        (trial["requests_ok"].as_u64(), trial["workload"].as_str()),
        (Some(1000), Some("pipeline"))
    );

    // Any method, through reflection, with -d data. `load` exits 0 when
    // every call fails too: the counts say it worked.
    let all_ok = |name: &str| {
        let trial = &read_json(&dir.path().join(name))["trials"][0];
        assert_eq!(trial["requests_ok"], 50, "{}", trial["error_examples"]);
        assert_eq!(trial["errors"], serde_json::json!({}), "{trial}");
    };
    let reflected = dir.path().join("reflected.json");
    let (ok, stdout, stderr) = load(&[
        &format!("grpc://{}", producer.addr),
        "--call",
        "ProducerService.Generate",
        "-d",
        r#"{"records": 5}"#,
        "-n",
        "50",
        "--json",
        reflected.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("decodes as RecordBatch"), "{stdout}");
    all_ok("reflected.json");
    // The same through a .proto file.
    let proto = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto/services.proto");
    let from_file = dir.path().join("from-file.json");
    let (ok, _, stderr) = load(&[
        &format!("grpc://{}", processor.addr),
        "--call",
        "ProcessorService/Process",
        "--proto",
        proto,
        "-n",
        "50",
        "--json",
        from_file.to_str().unwrap(),
    ]);
    assert!(ok, "{stderr}");
    all_ok("from-file.json");
    let (ok, _, stderr) = load(&[
        &format!("grpc://{}", producer.addr),
        "--call",
        "ProducerService.Nope",
        "-n",
        "1",
    ]);
    assert!(!ok && stderr.contains("no method"), "{stderr}");
}

#[test]
fn bench_runs_the_pipeline_with_every_process_probed() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("pipeline.json");
    let stdout = run_ok(
        wirebench()
            .args([
                "bench",
                "--workload",
                "pipeline",
                "-n",
                "400",
                "-c",
                "10",
                "--warmup",
                "300ms",
            ])
            .args(["--hop", "stream,unary", "--records", "50", "--json"])
            .arg(&json),
    );
    assert!(stdout.contains("per process"), "{stdout}");
    let result = read_json(&json);
    let trials = result["trials"].as_array().unwrap();
    let labels: Vec<(String, Option<String>)> = trials
        .iter()
        .map(|t| {
            (
                t["stack"].as_str().unwrap().to_owned(),
                t["hop"].as_str().map(String::from),
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            ("rest".to_owned(), None),
            ("grpc".to_owned(), Some("stream".to_owned())),
            ("grpc".to_owned(), Some("unary".to_owned()))
        ]
    );
    for trial in trials {
        assert_eq!(trial["requests_ok"], 400, "{}", trial["errors"]);
        assert_eq!(trial["workload"], "pipeline");
        let mut roles: Vec<&str> = trial["processes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["role"].as_str().unwrap())
            .collect();
        roles.sort();
        assert_eq!(roles, ["aggregator", "client", "processor", "producer"]);
    }
}
