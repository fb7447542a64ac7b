//! `wirebench report` and `wirebench compare` on fixed result files, and
//! what `bench` leaves in its --out folder, with progress lines when its
//! output is not a terminal.

mod common;

use common::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../report/tests/fixtures/result.json"
);
const SLOWER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../report/tests/fixtures/result-slower.json"
);

#[test]
fn report_re_renders_a_saved_result_in_every_format() {
    for (format, expect) in [
        ("table", "srv CPU ms/req"),
        ("md", "| stack | conns |"),
        ("csv", "trial,stack,variant,workload"),
        ("html", "<!doctype html>"),
        ("json", "\"schema_version\": 1"),
    ] {
        let output = wirebench()
            .args(["report", FIXTURE, "--format", format])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains(expect),
            "{format}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.html");
    let output = wirebench()
        .args(["report", FIXTURE, "--format", "html", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("data-chart=\"latency-spectrum\"")
    );
    let output = wirebench()
        .args(["report", "/nonexistent.json"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read"));
}

#[test]
fn compare_explains_two_runs_and_fails_past_the_threshold() {
    let output = wirebench()
        .args(["compare", FIXTURE, SLOWER])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("noticeably worse") && text.contains("about the same"),
        "{text}"
    );

    let output = wirebench()
        .args(["compare", FIXTURE, SLOWER, "--fail-if-slower", "10%"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "20% slower is past 10%");
    assert!(String::from_utf8_lossy(&output.stdout).contains("SLOWER: payload rest"));

    let output = wirebench()
        .args(["compare", FIXTURE, SLOWER, "--fail-if-slower", "25%"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "20% slower is within 25%");

    let output = wirebench()
        .args(["compare", FIXTURE, FIXTURE, "--fail-if-slower", "1%"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn bench_writes_result_and_reports_into_out_with_plain_progress_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let output = wirebench()
        .args([
            "bench",
            "--stacks",
            "grpc",
            "-t",
            "6s",
            "--warmup",
            "0s",
            "-c",
            "2",
            "--size-kb",
            "1",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    for file in ["result.json", "report.html", "report.md"] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    assert!(
        stdout.contains(&format!("report: {}", out.join("report.html").display())),
        "{stdout}"
    );
    // Not a terminal: a plain progress line every 5 s on stderr.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("grpc: 5/6 s") && stderr.contains("errors so far"),
        "{stderr}"
    );

    let quiet = dir.path().join("quiet");
    let output = wirebench()
        .args([
            "bench",
            "--stacks",
            "grpc",
            "-t",
            "6s",
            "--warmup",
            "0s",
            "-c",
            "2",
            "--size-kb",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(&quiet)
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&output.stderr).contains("errors so far"));
}

/// `report --at-rate` re-renders an old result at the user's rate: each
/// stack's cores are its median server CPU per request times the rate,
/// as computed here by hand from the file.
#[test]
fn report_translates_costs_to_the_rate_asked() {
    let result: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(FIXTURE).unwrap()).unwrap();
    let output = wirebench()
        .args(["report", FIXTURE, "--at-rate", "10000"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("at 10,000.0 req/s (as asked"), "{stdout}");
    for stack in ["rest", "grpc"] {
        let mut cpu: Vec<f64> = result["trials"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["stack"] == stack)
            .map(|t| t["costs"]["server_cpu_ms_per_request"].as_f64().unwrap())
            .collect();
        cpu.sort_by(f64::total_cmp);
        let median = (cpu[0] + cpu[cpu.len() - 1]) / 2.0; // two trials each
        let cores = 10_000.0 * median / 1000.0;
        let row = stdout
            .lines()
            .find(|l| {
                let cells: Vec<&str> = l.trim_start_matches('│').split('┆').collect();
                cells.len() == 8 && cells[0].trim() == stack && cells[1].trim().ends_with(" ms")
            })
            .unwrap_or_else(|| panic!("no decision row for {stack}: {stdout}"));
        assert!(
            row.contains(&format!("{cores:.2}")),
            "{stack}: {cores:.2} in {row}"
        );
    }
    // The same result without a rate: the highest measured, said so.
    let output = wirebench().args(["report", FIXTURE]).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("(the highest measured"));
}

/// The Markdown report keeps its charts: SVG files in `charts/` beside
/// it, each linked from the page, each with its legend drawn in.
#[test]
fn the_markdown_report_links_its_charts_as_svg_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.md");
    let output = wirebench()
        .args(["report", FIXTURE, "--format", "md", "-o"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let markdown = std::fs::read_to_string(&out).unwrap();
    let linked: Vec<&str> = markdown
        .lines()
        .filter_map(|l| {
            l.strip_prefix("![")?
                .split("](charts/")
                .nth(1)?
                .strip_suffix(')')
        })
        .collect();
    assert!(linked.len() >= 6, "{markdown}");
    for name in &linked {
        let svg = std::fs::read_to_string(dir.path().join("charts").join(name)).unwrap();
        assert!(
            svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"),
            "{name}"
        );
        assert_eq!(svg.matches("viewBox=").count(), 1, "{name}: one viewBox");
        // The legend: a swatch and a name per series, under the plot.
        assert!(svg.contains("font-family=\"sans-serif\""), "{name}");
    }
    assert!(linked.contains(&"decision-cpu.svg"), "{linked:?}");
}
