//! Bad input against the REST payload server (HTTP/1.1 and h2c), one test
//! per case: each starts its own server, sends the case, checks the answer
//! and that the server still serves. Run with `--nocapture` for the table
//! rows (common/wire.rs).

mod common;

use std::time::{Duration, Instant};

use common::wire::*;
use rstest::rstest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirebench_proto::vocab::Stack;

const JSON: &str = "Content-Type: application/json\r\n";
const PROTOBUF: &str = "Content-Type: application/x-protobuf\r\n";

#[rstest]
#[case::malformed_json("malformed JSON", http("POST", "/echo", JSON, b"{\"data\":"), "400")]
#[case::wrong_content_type(
    "wrong content type",
    http("POST", "/echo", "Content-Type: text/plain\r\n", b"{\"data\":\"x\"}"),
    "415"
)]
#[case::garbage_protobuf("garbage protobuf", http("POST", "/echo", PROTOBUF, &[0xff; 12]), "400")]
#[case::truncated_protobuf(
    "truncated protobuf",
    http("POST", "/echo", PROTOBUF, &[0x0a, 0x64, b'x', b'x']),
    "400"
)]
#[case::size_not_an_integer(
    "size not an integer",
    http("GET", "/payload?size_in_kb=%FF%FE", "", b""),
    "400"
)]
#[case::size_over_the_limit(
    "size over the limit",
    http("GET", "/payload?size_in_kb=999999999999", "", b""),
    "413"
)]
#[case::unknown_route("unknown route", http("GET", "/../../etc/passwd", "", b""), "404")]
#[case::body_over_the_limit(
    "body over the limit",
    http("POST", "/echo", JSON, &vec![b'x'; 400 * 1024]),
    "413"
)]
#[case::oversized_headers(
    "oversized headers (200 KiB)",
    http("GET", "/payload", &format!("X-Big: {}\r\n", "a".repeat(200 * 1024)), b""),
    "431"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_refuses_with_the_right_status_and_keeps_serving(
    #[case] kind: &str,
    #[case] request: Vec<u8>,
    #[case] want: &str,
) {
    let addr = payload_server(Stack::REST).await;
    let (reply, _) = exchange(addr, &request, Duration::from_secs(3)).await;
    let line = status_line(&reply);
    record(&format!("rest: {kind}"), 1, &line);
    assert!(line.contains(want), "rest {kind}: {line}");
    assert_serves(Stack::REST, addr, kind).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_refuses_a_body_announced_over_the_limit_before_reading_it() {
    let addr = payload_server(Stack::REST).await;
    let (reply, _) = exchange(addr, b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n", Duration::from_secs(3)).await;
    let line = status_line(&reply);
    record("rest: Content-Length of 93 GiB", 1, &line);
    // hyper refuses such a length itself (400); under it, our limit (413).
    assert!(line.contains("413") || line.contains("400"), "{line}");
    assert_serves(Stack::REST, addr, "a huge Content-Length").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_cuts_off_a_client_trickling_its_headers() {
    let addr = payload_server(Stack::REST).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut closed = false;
    for byte in b"GET /payload?size_in_kb=1 HTTP/1.1\r\nHost: t\r\nX-Slow: 1"
        .iter()
        .cycle()
        .take(200)
    {
        if stream.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut probe = [0u8; 512];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(1), stream.read(&mut probe)).await
            && (n == 0 || String::from_utf8_lossy(&probe[..n]).contains("408"))
        {
            closed = true;
            break;
        }
    }
    assert!(closed, "a trickling client was not cut off");
    record(
        "rest: trickling headers (slowloris)",
        1,
        &format!("cut off after {:.1} s", started.elapsed().as_secs_f64()),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_closes_many_idle_connections_at_once() {
    let addr = payload_server(Stack::REST).await;
    let mut idle = Vec::with_capacity(500);
    for _ in 0..500 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(IDLE * 3).await;
    let mut still_open = 0;
    for mut stream in idle {
        let mut buf = [0u8; 1];
        if !matches!(
            tokio::time::timeout(Duration::from_millis(50), stream.read(&mut buf)).await,
            Ok(Ok(0)) | Ok(Err(_))
        ) {
            still_open += 1;
        }
    }
    assert_eq!(still_open, 0, "idle connections left open");
    record(
        "rest: 500 idle connections at once",
        500,
        "all closed by the idle timeout",
    );
    assert_serves(Stack::REST, addr, "500 idle connections").await;
}
