//! Streaming methods under load, as ghz loads them: the pipeline's own
//! streaming rpcs, found through the server's reflection service (no
//! --proto), each call checked message by message, the messages counted
//! exactly and each answer's latency kept beside the call's.

mod common;

use common::*;

/// Server streaming (`ProducerService.GenerateSeries`, 5 batches a call)
/// and bidi (`ProducerService.GenerateStream`, 4 messages a call, 1 ms
/// apart) against one producer; client streaming
/// (`AggregatorService.Summarize`, 3 batches a call) against an
/// aggregator. Every call succeeds and every message is accounted for.
#[test]
fn server_client_and_bidi_streaming_calls_run_under_load() {
    let (child, producer) = serve("pipeline", "grpc", &["--role", "producer"]);
    let _producer = Guard(child);
    let url = format!("grpc://{producer}");
    let calls = 60;
    let n = calls.to_string();

    let series = load_trial(
        &url,
        &[
            "--call",
            "ProducerService/GenerateSeries",
            "-d",
            r#"{"records": 20, "batches": 5}"#,
            "-n",
            &n,
            "-c",
            "4",
        ],
    );
    assert_eq!(series["requests_ok"], calls, "{}", series["error_examples"]);
    let streams = &series["streams"];
    assert_eq!(streams["kind"], "server streaming", "{series}");
    assert_eq!(streams["messages_sent"], calls, "{streams}");
    assert_eq!(streams["messages_received"], 5 * calls, "{streams}");
    assert!(streams["message_latency_us"]["p50"].as_u64().unwrap() > 0);
    // Each batch is 20 records: the bytes are those of 5 x 60 batches.
    let per_call = series["bytes_received"].as_u64().unwrap() / calls;
    assert!(per_call > 5 * 20 * 10, "{per_call} bytes a call");

    let bidi = load_trial(
        &url,
        &[
            "--call",
            "ProducerService.GenerateStream",
            "-d",
            r#"{"records": 10}"#,
            "--stream-messages",
            "4",
            "--stream-interval",
            "1ms",
            "-n",
            &n,
            "-c",
            "4",
        ],
    );
    assert_eq!(bidi["requests_ok"], calls, "{}", bidi["error_examples"]);
    let streams = &bidi["streams"];
    assert_eq!(streams["kind"], "bidi", "{bidi}");
    assert_eq!(streams["messages_per_call"], 4);
    assert_eq!(streams["messages_sent"], 4 * calls, "{streams}");
    assert_eq!(streams["messages_received"], 4 * calls, "{streams}");
    // A call sends 4 messages 1 ms apart: it cannot take under 3 ms.
    assert!(
        bidi["latency_us"]["min"].as_u64().unwrap() >= 3_000,
        "{bidi}"
    );

    // Summarize asks no other service.
    let (child, aggregator) = serve("pipeline", "grpc", &["--role", "aggregator"]);
    let _aggregator = Guard(child);
    let summarize = load_trial(
        &format!("grpc://{aggregator}"),
        &[
            "--call",
            "AggregatorService/Summarize",
            "-d",
            r#"{"records": [{"id": 1, "score": 2.5}, {"id": 2, "score": 0.5}]}"#,
            "--stream-messages",
            "3",
            "-n",
            &n,
        ],
    );
    assert_eq!(summarize["requests_ok"], calls, "{summarize}");
    let streams = &summarize["streams"];
    assert_eq!(streams["kind"], "client streaming", "{summarize}");
    assert_eq!(streams["messages_sent"], 3 * calls, "{streams}");
    assert_eq!(streams["messages_received"], calls, "{streams}");
}

/// A series over the server's limit, and a client stream carrying more
/// records than --max-records, fail every call with their status; the
/// flags that do not fit a method are refused before any load.
#[test]
fn streaming_flags_that_do_not_fit_the_method_are_refused() {
    let (child, producer) = serve("pipeline", "grpc", &["--role", "producer"]);
    let _producer = Guard(child);
    let url = format!("grpc://{producer}");

    // Every call refused: the run ends with exit 98 (no good answer).
    let refused = |command: &mut std::process::Command| {
        let output = command.output().unwrap();
        let out = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code() == Some(98), out)
    };
    let (ok, out) = refused(wirebench().args([
        "load",
        &url,
        "--call",
        "ProducerService/GenerateSeries",
        "-d",
        r#"{"batches": 20000}"#,
        "-n",
        "5",
    ]));
    assert!(
        ok && out.contains("grpc_status in 1 of 1 trials (grpc: 5)")
            && out.contains("over the limit of 10000"),
        "{out}"
    );
    let (child, aggregator) = serve(
        "pipeline",
        "grpc",
        &["--role", "aggregator", "--max-records", "5"],
    );
    let _aggregator = Guard(child);
    let (ok, out) = refused(wirebench().args([
        "load",
        &format!("grpc://{aggregator}"),
        "--call",
        "AggregatorService/Summarize",
        "-d",
        r#"{"records": [{"id": 1}, {"id": 2}]}"#,
        "--stream-messages",
        "3",
        "-n",
        "4",
    ]));
    assert!(
        ok && out.contains("grpc_status in 1 of 1 trials (grpc: 4)")
            && out.contains("ResourceExhausted"),
        "{out}"
    );

    for (call, extra, says) in [
        (
            "ProducerService/Generate",
            ["--stream-messages", "3"],
            "ProducerService/Generate is unary",
        ),
        (
            "ProducerService/GenerateSeries",
            ["--stream-messages", "3"],
            "is server streaming",
        ),
        (
            "ProducerService/GenerateStream",
            ["--stream-interval", "20s"],
            "raise --timeout",
        ),
    ] {
        let mut args = vec!["load", &url, "--call", call, "-n", "5"];
        args.extend(extra);
        if says == "raise --timeout" {
            args.extend(["--stream-messages", "2"]);
        }
        let (ok, out) = run(wirebench().args(&args));
        assert!(!ok && out.contains(says), "{args:?}: {out}");
    }
}
