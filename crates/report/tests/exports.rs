//! The exporters on a fixed result file: snapshots of the table, Markdown
//! and CSV (a change in them is a change users see), the JSON output checked
//! against the schema in docs/, and the HTML report opened in headless
//! Chromium.

use std::path::Path;
use std::process::Command;

use wirebench_report::compare::compare;
use wirebench_report::{Format, RunResult};

const FIXTURE: &str = include_str!("fixtures/result.json");
const SLOWER: &str = include_str!("fixtures/result-slower.json");
/// A `message` bench: two shapes, down and up, rest and grpc (8 trials).
const MESSAGE: &str = include_str!("fixtures/message.json");

fn fixture() -> RunResult {
    serde_json::from_str(FIXTURE).expect("the fixture is a result")
}

#[test]
fn table_snapshot() {
    insta::assert_snapshot!(Format::Table.exporter().render(&fixture()));
}

#[test]
fn markdown_snapshot() {
    insta::assert_snapshot!(Format::Markdown.exporter().render(&fixture()));
}

#[test]
fn csv_snapshot() {
    insta::assert_snapshot!(Format::Csv.exporter().render(&fixture()));
}

#[test]
fn compare_snapshot() {
    let before = fixture();
    let after: RunResult = serde_json::from_str(SLOWER).unwrap();
    let comparison = compare(&before, &after);
    insta::assert_snapshot!(comparison.render());
    let slower: Vec<&str> = comparison
        .slower_than(0.10)
        .iter()
        .map(|d| d.key.as_str())
        .collect();
    assert_eq!(slower, ["payload rest 16 KiB w1 (2 vs 2 trials, medians)"]);
}

fn schema() -> jsonschema::Validator {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/result.schema.json"
    ))
    .unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).expect("the schema compiles")
}

#[test]
fn json_output_matches_the_checked_in_schema() {
    let validator = schema();
    let mut result = fixture();
    // A trial judged by thresholds: one met, one that measured nothing.
    result.trials[0].thresholds = vec![
        wirebench_report::threshold::ThresholdOutcome {
            threshold: "p99<50ms".into(),
            value: Some(1200.0),
            passed: true,
        },
        wirebench_report::threshold::ThresholdOutcome {
            threshold: "max<1s".into(),
            value: None,
            passed: false,
        },
    ];
    result.trials[0].connect_backoff = Some(wirebench_report::model::ConnectBackoff {
        failed_attempts: 7,
        waits: 12,
        waited_s: 2.0,
    });
    result.capacity = vec![capacity()];
    result.trials[0].server_metrics = vec![wirebench_report::model::RemoteServer {
        url: "http://10.0.0.2:9100/metrics".into(),
        window_s: 10.0,
        cpu_s: 4.5,
        cpu_percent: 45.0,
        rss_bytes: Some(30_000_000),
        threads: Some(3),
        requests: Some(12_000),
        bytes_written: None,
    }];
    // A merged trial of a sharded run.
    result.trials[0].agents = vec![wirebench_report::Agent {
        index: 0,
        count: 2,
        host: "agent-0".into(),
        started_at: "2026-12-02T14:00:00.001Z".into(),
        start_lateness_ms: Some(1.2),
        ..Default::default()
    }];
    result.trials[0].latency_uncorrected_histogram =
        Some(result.trials[0].latency_histogram.clone());
    result.trials[0].timeline[0].latency_histogram =
        Some(result.trials[0].latency_histogram.clone());
    result.trials[0].schedule = Some("step,start=100,end=200,step=100,every=1s".into());
    result.trials[0].steps = vec![wirebench_report::model::ScheduleStep {
        from_s: 0.0,
        to_s: 1.0,
        offered: 100.0,
        requests_ok: 100,
        errors: 0,
        throughput_rps: 100.0,
        p99_us: 1200,
    }];
    result.trials[0].json_codec = Some("sonic-rs".into());
    result.trials[0].profile = Some(wirebench_report::profile::Profile::from_folded(
        199,
        &[
            ("server;main;serde_json::to_writer".into(), 60),
            ("load generator;run;tcp_sendmsg_[k]".into(), 40),
        ],
    ));
    result.trials[1].streams = Some(wirebench_report::model::StreamStats {
        kind: "bidi".into(),
        messages_per_call: 4,
        interval_s: 0.001,
        messages_sent: 400,
        messages_received: 400,
        messages_received_per_s: 200.0,
        message_latency_us: result.trials[1].latency_us,
    });
    let rendered: serde_json::Value =
        serde_json::from_str(&Format::Json.exporter().render(&result)).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&rendered)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // And the schema does reject what is not a result.
    let mut broken = rendered.clone();
    broken["trials"][0]["throughput_rps"] = serde_json::json!("fast");
    assert!(!validator.is_valid(&broken));
    let mut extra = rendered;
    extra["trials"][0]["undocumented"] = serde_json::json!(1);
    assert!(
        !validator.is_valid(&extra),
        "every field must be documented in the schema"
    );
}

/// A `--find-capacity` search: met, met, missed, then the bisection.
fn capacity() -> wirebench_report::capacity::Capacity {
    use wirebench_report::capacity::{Capacity, CapacityStep};
    let step = |offered_rps: f64, p99_us: u64, met: bool| CapacityStep {
        offered_rps,
        achieved_rps: offered_rps * 0.999,
        p99_us,
        error_rate: 0.0,
        server_cpu_percent: 80.0,
        client_bound: false,
        server_saturated: !met,
        lateness_p99_us: Some(12),
        generator_late: false,
        run: 1,
        met,
        failed: if met { vec![] } else { vec!["p99<20ms".into()] },
    };
    Capacity {
        label: "grpc".into(),
        slo: vec!["p99<20ms".into()],
        capacity_rps: Some(400.0),
        missed_rps: Some(566.0),
        confirmed: true,
        steps: vec![
            step(200.0, 3_000, true),
            step(400.0, 9_000, true),
            step(800.0, 45_000, false),
            step(566.0, 31_000, false),
            step(400.0, 10_000, true),
        ],
        limited_by: Some("server".into()),
    }
}

#[test]
fn a_capacity_search_renders_its_table_verdict_and_knee() {
    let mut result = fixture();
    result.trials.clear();
    result.summary = None;
    result.capacity = vec![capacity()];
    let table = Format::Table.exporter().render(&result);
    assert!(
        table.contains("Capacity at the SLO p99<20ms, most first: grpc 400 req/s (missed at 566)."),
        "{table}"
    );
    assert!(
        table.contains("200 met; 400 met; 800 missed; 566 missed"),
        "{table}"
    );
    let markdown = Format::Markdown.exporter().render(&result);
    assert!(
        markdown.contains("| grpc | p99<20ms | 400 req/s (missed at 566) | server |"),
        "{markdown}"
    );
    let html = Format::Html.exporter().render(&result);
    assert!(
        html.contains("data-chart=\"capacity-knee\""),
        "the knee is charted"
    );
}

#[test]
fn html_is_self_contained() {
    let html = Format::Html.exporter().render(&fixture());
    for outside in ["http://", "https://", "<link", "src="] {
        let hits: Vec<&str> = html
            .match_indices(outside)
            .map(|(i, _)| &html[i.saturating_sub(40)..(i + 60).min(html.len())])
            .collect();
        // The SVG namespace is a name, not a fetch.
        let fetches: Vec<&&str> = hits
            .iter()
            .filter(|h| !h.contains("www.w3.org/2000/svg"))
            .collect();
        assert!(fetches.is_empty(), "{outside}: {fetches:?}");
    }
}

/// What headless Chromium saw of a report at one window width: the DOM
/// after the page's own checks ran, and the console.
struct Seen {
    dom: String,
    console_errors: Vec<String>,
}

/// Opens `result`'s HTML report in headless Chromium (Debian's
/// `chromium`, which .ci/run installs) `width` px wide, and reads back the
/// DOM after its scripts ran.
fn open_in_chromium(result: &RunResult, width: u32) -> Seen {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("headless Chromium is needed: apt-get install chromium (.ci/run installs it)");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, Format::Html.exporter().render(result)).unwrap();
    let output = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--window-size={width},1200"))
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(Path::new(&page).exists());
    Seen {
        dom: String::from_utf8_lossy(&output.stdout).into_owned(),
        console_errors: String::from_utf8_lossy(&output.stderr)
            .lines()
            .filter(|l| l.contains("CONSOLE") && (l.contains("ERROR") || l.contains("Uncaught")))
            .map(str::to_owned)
            .collect(),
    }
}

/// The checks a person would make of any report: no script error, every
/// chart drawn, captioned and with axis titles, its legend beside the
/// plot, each stack one colour, axis text of at least 12 px, full-width
/// charts across most of the page, and the decision panel naming each of
/// `groups`.
fn looks_right(seen: &Seen, width: u32, groups: &[&str], charts: &[&str]) {
    let dom = &seen.dom;
    let at = format!("at {width} px");
    assert!(
        seen.console_errors.is_empty(),
        "{at}: {:#?}",
        seen.console_errors
    );
    let counted: usize = attribute(dom, "data-charts").parse().unwrap();
    assert!(counted >= charts.len(), "{at}: {counted} charts");
    assert_eq!(
        attribute(dom, "data-empty-charts"),
        "",
        "{at}: empty charts"
    );
    assert_eq!(
        attribute(dom, "data-bare-charts"),
        "",
        "{at}: charts without titles"
    );
    assert_eq!(attribute(dom, "data-colour-clashes"), "", "{at}: colours");
    assert_eq!(
        attribute(dom, "data-untitled-charts"),
        "",
        "{at}: charts whose points show no value on hover"
    );
    let smallest: f64 = attribute(dom, "data-smallest-text-px").parse().unwrap();
    assert!(smallest >= 12.0, "{at}: axis text {smallest} px");
    let narrowest: f64 = attribute(dom, "data-narrowest-full-chart").parse().unwrap();
    assert!(
        narrowest >= 0.85,
        "{at}: a full chart is {narrowest} of the page"
    );
    for chart in charts {
        assert!(
            dom.contains(&format!(r#"data-chart="{chart}""#)),
            "{at}: {chart} missing"
        );
    }
    let named: Vec<&str> = attribute(dom, "data-decision-groups").split('|').collect();
    for group in groups {
        assert!(
            named.contains(group),
            "{at}: no decision for {group}: {named:?}"
        );
    }
}

#[test]
fn a_payload_bench_report_reads_right_in_chromium_at_1280_and_1920() {
    for width in [1280, 1920] {
        let seen = open_in_chromium(&fixture(), width);
        looks_right(
            &seen,
            width,
            &["payload 16 KiB"],
            &[
                "decision-cpu",
                "decision-rps",
                "decision-wire",
                "decision-p99",
                "latency-spectrum",
                "latency-cdf",
                "throughput",
                "p99",
                "cpu",
                "rss",
            ],
        );
    }
}

#[test]
fn a_message_sweep_report_reads_right_in_chromium_at_1280_and_1920() {
    let result: RunResult = serde_json::from_str(MESSAGE).unwrap();
    for width in [1280, 1920] {
        let seen = open_in_chromium(&result, width);
        let groups = [
            "message order down",
            "message order up",
            "message telemetry down",
            "message telemetry up",
        ];
        looks_right(
            &seen,
            width,
            &groups,
            &[
                "decision-cpu",
                "latency-spectrum",
                "latency-cdf",
                "throughput",
            ],
        );
        // Small multiples: one latency chart per workload group.
        for group in groups {
            assert!(
                seen.dom.contains(&format!(
                    r#"data-chart="latency-spectrum" data-group="{group}""#
                )),
                "{group}"
            );
        }
    }
}

#[test]
fn a_capacity_search_report_reads_right_in_chromium_at_1280_and_1920() {
    let mut result = fixture();
    result.trials.clear();
    result.summary = None;
    result.capacity = vec![capacity()];
    for width in [1280, 1920] {
        let seen = open_in_chromium(&result, width);
        looks_right(&seen, width, &[], &["capacity-knee"]);
    }
}

fn attribute<'a>(dom: &'a str, name: &str) -> &'a str {
    dom.split(&format!("{name}=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("absent")
}
