//! Faults around a run (Ctrl-C and SIGTERM of bench are in bench.rs):
//! 10,000 concurrent users over HTTP/1.1 (10,000
//! sockets: wirebench raises its open-files limit itself), and a server
//! process holding many idle connections with bounded memory until its idle
//! timeout closes them.

mod common;

use std::io::ErrorKind;
use std::net::TcpStream;
use std::time::Duration;

use common::*;

/// The two tests load the machine hard (10,000 sockets, then 2,000 idle
/// connections): one at a time, so that neither measures the other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn ten_thousand_users_over_http1_are_held() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("10k.json");
    run_ok(
        wirebench()
            .args([
                "bench", "--stacks", "rest", "-u", "10000", "-r", "5000", "-t", "8s", "--warmup",
                "3s",
            ])
            .args(["--size-kb", "1", "--timeout", "30s", "--quiet", "--json"])
            .arg(&json),
    );
    let trial = &read_json(&json)["trials"][0];
    assert_eq!(trial["connections"], 10_000);
    assert_eq!(
        trial["errors"],
        serde_json::json!({}),
        "{}",
        trial["error_examples"]
    );
    // Held, not fast: every connection open and answered without error
    // (how many requests a debug build answers in the window depends on
    // the machine, so no count is asserted).
    assert!(trial["requests_ok"].as_u64().unwrap() > 0, "{trial}");
    let client = trial["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["role"] == "client")
        .unwrap();
    eprintln!(
        "10,000 users: {} ok, client RSS peak {} MiB, server RSS peak {} MiB",
        trial["requests_ok"],
        client["rss_peak_bytes"].as_u64().unwrap() >> 20,
        trial["costs"]["server_rss_peak_bytes"].as_u64().unwrap() >> 20
    );
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn idle_connections_cost_bounded_memory_and_are_closed() {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    use std::io::{Read, Write};
    let (server, addr) = serve(
        "payload",
        "rest",
        &["--idle-timeout", "2s", "--header-timeout", "30s"],
    );
    let server = Guard(server);
    let pid = server.0.id();
    let before = rss_kib(pid);
    // 2,000 idle clients: connected, nothing sent. (Clients that stop
    // mid-request are closed by the same idle watchdog: deadlines.rs.)
    let mut clients: Vec<TcpStream> = (0..2000)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let held = rss_kib(pid);
    let per_connection = (held.saturating_sub(before)) as f64 * 1024.0 / 2000.0;
    eprintln!(
        "2,000 idle connections: server RSS {before} KiB -> {held} KiB ({per_connection:.0} bytes each)"
    );
    assert!(
        held - before < 64 * 1024,
        "RSS grew by {} KiB",
        held - before
    );
    std::thread::sleep(Duration::from_secs(3));
    // Closed: the read sees the end of the stream (or a reset). A read
    // that times out found the connection still open.
    let mut closed = 0;
    let mut open = 0;
    for client in &mut clients {
        client
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 64];
        match client.read(&mut buf) {
            Ok(0) => closed += 1,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => open += 1,
            Err(_) => closed += 1,
            Ok(_) => panic!("the server sent bytes to a client that asked nothing"),
        }
    }
    assert_eq!(
        (closed, open),
        (2000, 0),
        "idle connections left open by the server"
    );
    // And it still serves.
    let mut fresh = TcpStream::connect(&addr).unwrap();
    fresh
        .write_all(b"GET /payload HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    fresh.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
}
