//! Bad input against the REST payload server (HTTP/1.1 and h2c): see
//! common/wire.rs for the shared cases and the printed table.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::wire::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wirebench_proto::vocab::Stack;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_server_survives_bad_input() {
    let stack = Stack::REST;
    let addr = payload_server(stack).await;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "malformed JSON",
            http(
                "POST",
                "/echo",
                "Content-Type: application/json\r\n",
                b"{\"data\":",
            ),
            "400",
        ),
        (
            "wrong content type",
            http(
                "POST",
                "/echo",
                "Content-Type: text/plain\r\n",
                b"{\"data\":\"x\"}",
            ),
            "415",
        ),
        (
            "garbage protobuf",
            http(
                "POST",
                "/echo",
                "Content-Type: application/x-protobuf\r\n",
                &[0xff; 12],
            ),
            "400",
        ),
        (
            "truncated protobuf",
            http(
                "POST",
                "/echo",
                "Content-Type: application/x-protobuf\r\n",
                &[0x0a, 0x64, b'x', b'x'],
            ),
            "400",
        ),
        (
            "size not an integer",
            http("GET", "/payload?size_in_kb=%FF%FE", "", b""),
            "400",
        ),
        (
            "size over the limit",
            http("GET", "/payload?size_in_kb=999999999999", "", b""),
            "413",
        ),
        (
            "unknown route",
            http("GET", "/../../etc/passwd", "", b""),
            "404",
        ),
        (
            "body over the limit",
            http(
                "POST",
                "/echo",
                "Content-Type: application/json\r\n",
                &vec![b'x'; 400 * 1024],
            ),
            "413",
        ),
        (
            "oversized headers (200 KiB)",
            http(
                "GET",
                "/payload",
                &format!("X-Big: {}\r\n", "a".repeat(200 * 1024)),
                b"",
            ),
            "431",
        ),
    ];
    for (kind, request, want) in cases {
        let (reply, _) = exchange(addr, &request, Duration::from_secs(3)).await;
        let line = status_line(&reply);
        assert!(line.contains(want), "rest {kind}: {line}");
        record(&format!("rest: {kind}"), 1, &line);
        assert_serves(stack, addr, kind).await;
    }
    // A body announced bigger than the limit is refused before it is read.
    let (reply, _) = exchange(addr, b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n", Duration::from_secs(3)).await;
    record("rest: Content-Length of 93 GiB", 1, &status_line(&reply));
    // hyper refuses such a length itself (400); under it, our limit (413).
    let line = status_line(&reply);
    assert!(line.contains("413") || line.contains("400"), "{line}");

    // Trickling a request line one byte at a time: cut off by the header timeout.
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

    // Many idle connections at once: all closed, memory released to the server's pool.
    let idle: Vec<TcpStream> = futures_join(500, addr).await;
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

    http_level_cases("rest", stack, addr, true).await;
    print_table();
}

async fn futures_join(n: usize, addr: SocketAddr) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(n);
    for _ in 0..n {
        streams.push(TcpStream::connect(addr).await.unwrap());
    }
    streams
}
