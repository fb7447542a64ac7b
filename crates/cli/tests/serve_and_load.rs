//! `wirebench serve` and `wirebench load` as separate processes, as a user
//! runs them: load against a server, a server killed with SIGKILL mid-run,
//! a graceful stop on SIGTERM.

mod common;

use std::time::Duration;

use common::*;
use wirebench_report::format::thousands;

#[test]
fn load_drives_both_servers_and_writes_json() {
    for (stack, url) in [
        ("rest", "http://{}/payload?size_in_kb=8"),
        ("grpc", "grpc://{}"),
    ] {
        let (server, addr) = serve_payload(stack);
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("load.json");
        run_ok(
            wirebench()
                .args([
                    "load",
                    &url.replace("{}", &addr),
                    "-n",
                    "200",
                    "-c",
                    "4",
                    "--size-kb",
                    "8",
                    "--json",
                ])
                .arg(&json),
        );
        let result = read_json(&json);
        let trial = &result["trials"][0];
        assert_eq!(trial["stack"], stack);
        assert_eq!(trial["requests_ok"], 200);
        assert_eq!(trial["bytes_received"].as_u64().unwrap() / 200 / 1024, 8);
        signal(&server, libc::SIGTERM);
        let (_, elapsed) = wait_with_limit(server, Duration::from_secs(5));
        assert!(
            elapsed < Duration::from_secs(3),
            "graceful stop took {elapsed:?}"
        );
    }
}

#[test]
fn a_server_killed_mid_run_leaves_errors_by_kind_and_the_run_ends_on_time() {
    for (stack, url) in [
        ("rest", "http://{}/payload?size_in_kb=1"),
        ("grpc", "grpc://{}"),
    ] {
        let (server, addr) = serve_payload(stack);
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("killed.json");
        let load = spawn(
            wirebench()
                .args([
                    "load",
                    &url.replace("{}", &addr),
                    "-t",
                    "3s",
                    "-c",
                    "4",
                    "--timeout",
                    "1s",
                    "--json",
                ])
                .arg(&json),
        );
        std::thread::sleep(Duration::from_millis(1200));
        signal(&server, libc::SIGKILL);
        let _ = wait_with_limit(server, Duration::from_secs(2));
        let (output, elapsed) = wait_with_limit(load, Duration::from_secs(10));
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            elapsed < Duration::from_millis(5000),
            "{stack}: the run took {elapsed:?}"
        );
        let trial = &read_json(&json)["trials"][0];
        assert!(trial["requests_ok"].as_u64().unwrap() > 0, "{stack}");
        let errors = trial["errors"].as_object().unwrap();
        assert!(!errors.is_empty(), "{stack}: no errors after the kill");
        // After the load, as hey prints them: the latency histogram, and
        // the answers by outcome, each error kind with its count.
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("latency histogram ("), "{stdout}");
        assert!(stdout.contains("■"), "{stdout}");
        let answers = stdout.split("answers (").nth(1).expect("answers");
        let ok = thousands(trial["requests_ok"].as_u64().unwrap());
        assert!(
            answers
                .lines()
                .any(|l| l.contains(&ok) && l.ends_with(" ok")),
            "{stdout}"
        );
        for (kind, count) in errors {
            let count = thousands(count.as_u64().unwrap());
            assert!(
                answers
                    .lines()
                    .any(|l| l.contains(&count) && l.contains(kind.as_str())),
                "{kind}: {stdout}"
            );
        }
        for kind in errors.keys() {
            assert!(
                ["connect", "reset", "unavailable", "timeout"].contains(&kind.as_str()),
                "{stack}: {kind}"
            );
        }
        assert!((trial["duration_s"].as_f64().unwrap() - 3.0).abs() < 0.01);
    }
}

/// Refused requests are counted by the status the server answered, in the
/// result and after the load, as hey and ghz print them.
#[test]
fn refusals_are_counted_by_status() {
    for (stack, url, args, code) in [
        (
            "rest",
            "http://{}/payload?size_in_kb=abc",
            vec![],
            "HTTP 400",
        ),
        // 128 MiB asked of a server that builds at most 64 MiB.
        ("grpc", "grpc://{}", vec!["--size-kb", "131072"], "gRPC"),
    ] {
        let (server, addr) = serve_payload(stack);
        let dir = tempfile::tempdir().unwrap();
        let json = dir.path().join("refused.json");
        let output = wirebench()
            .args([
                "load",
                &url.replace("{}", &addr),
                "-n",
                "20",
                "-c",
                "2",
                "--json",
            ])
            .arg(&json)
            .args(&args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let trial = &read_json(&json)["trials"][0];
        let codes = trial["error_codes"].as_object().expect("error_codes");
        let (name, count) = codes.iter().next().expect("a code");
        assert!(name.starts_with(code), "{stack}: {codes:?}");
        assert_eq!(count.as_u64(), Some(20), "{stack}: {codes:?}");
        assert!(
            stdout.contains("by status:") && stdout.contains(name.as_str()),
            "{stdout}"
        );
        signal(&server, libc::SIGTERM);
        let _ = wait_with_limit(server, Duration::from_secs(5));
    }
}

/// The README's echo example as written: a JSON body from a file (with
/// its trailing newline), which the server re-encodes: every answer is
/// the same JSON, so every answer is good.
#[test]
fn the_readme_echo_example_gets_every_answer_right() {
    let (server, addr) = serve_payload("rest");
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, "{\"data\":\"hello\"}\n").unwrap();
    let json = dir.path().join("echo.json");
    run_ok(
        wirebench()
            .args(["load", &format!("http://{addr}/echo"), "--body-file"])
            .arg(&body)
            .args([
                "-H",
                "Content-Type: application/json",
                "-n",
                "100",
                "--json",
            ])
            .arg(&json),
    );
    let trial = &read_json(&json)["trials"][0];
    assert_eq!(trial["requests_ok"], 100, "{trial}");
    assert!(trial["errors"].as_object().unwrap().is_empty(), "{trial}");
    signal(&server, libc::SIGTERM);
    let _ = wait_with_limit(server, Duration::from_secs(5));
}

#[test]
fn load_refuses_bad_targets_clearly() {
    let output = wirebench()
        .args(["load", "ftp://127.0.0.1:1/x"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("use http(s)://, grpc(s):// or tcp(s)://")
    );
    let output = wirebench()
        .args(["load", "grpc://127.0.0.1:1", "--call", "foo.Bar/Baz"])
        .output()
        .unwrap();
    // Unknown to us: resolved through reflection, which a closed port lacks.
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("reflection failed") && stderr.contains("--proto"),
        "{stderr}"
    );
}

#[test]
fn a_self_signed_certificate_is_printed_trusted_and_removed_at_exit() {
    use std::io::BufRead;
    let (mut child, addr) = serve_payload("rest+tls");
    let mut line = String::new();
    std::io::BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    // "wirebench: self-signed certificate for localhost: /tmp/wirebench-...-cert.pem"
    let path = std::path::PathBuf::from(line.trim().rsplit(": ").next().unwrap());
    assert!(line.contains("self-signed certificate"), "{line}");
    let port = addr.rsplit(':').next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    run_ok(
        wirebench()
            .arg("load")
            .arg(format!("https://localhost:{port}/payload"))
            .arg("--cacert")
            .arg(&path)
            .args(["-n", "3", "-c", "1", "--quiet", "--json"])
            .arg(&json),
    );
    assert_eq!(read_json(&json)["trials"][0]["requests_ok"], 3);
    signal(&child, libc::SIGTERM);
    let (output, _) = wait_with_limit(child, Duration::from_secs(5));
    assert!(output.status.success());
    assert!(!path.exists(), "{} left behind", path.display());
}
