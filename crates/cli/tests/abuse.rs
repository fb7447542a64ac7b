//! Bad input against every server, on the wire: malformed JSON, garbage
//! and truncated protobuf, wrong content types, oversized headers, bodies
//! and gRPC messages, invalid HTTP/1.1, a broken HTTP/2 preface and garbage
//! frames, idle and trickling connections (slowloris), connections reset
//! mid-request and mid-stream. Each gets a clear error or a closed
//! connection, and afterwards the server answers a correct request
//! correctly. The table of what was sent and what came back is printed
//! (`cargo test --test abuse -- --nocapture`).

use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wirebench::args::BenchWorkload;
use wirebench_load::Client;
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::pipeline::{HopMode, PipelineConfig, Role};
use wirebench_server::{PayloadHandler, ServeOptions};

const IDLE: Duration = Duration::from_secs(1);
const HEADER: Duration = Duration::from_secs(1);

thread_local! {
    /// What this test's cases sent and what came back, for its table.
    static TABLE: RefCell<Vec<(String, u32, String)>> = const { RefCell::new(Vec::new()) };
}

fn record(kind: &str, sent: u32, outcome: &str) {
    TABLE.with(|t| {
        t.borrow_mut()
            .push((kind.to_owned(), sent, outcome.to_owned()))
    });
}

async fn payload_server(stack: Stack) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = ServeOptions {
        idle_timeout: IDLE,
        header_timeout: HEADER,
        ..ServeOptions::default()
    };
    tokio::spawn(wirebench_server::serve_payload(
        stack,
        listener,
        PayloadHandler::new(256),
        options,
        std::future::pending(),
    ));
    addr
}

async fn pipeline_server(stack: Stack, role: Role) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = PipelineConfig {
        role,
        upstream: None,
        default_records: 10,
        max_records: 1000,
        hop: HopMode::Stream,
        hop_timeout: Duration::from_secs(1),
        idle_timeout: IDLE,
    };
    tokio::spawn(wirebench_server::pipeline::serve_pipeline(
        stack,
        listener,
        config,
        std::future::pending(),
    ));
    addr
}

/// A correct request gets a correct answer.
async fn assert_serves(stack: Stack, addr: SocketAddr, after: &str) {
    let target =
        wirebench::bench::front_target(BenchWorkload::Payload, stack, addr, 4, 10, None).unwrap();
    let client = Client::new(&target, 1).await.unwrap();
    let answer = client.call(0, Duration::from_secs(5)).await;
    assert!(answer.is_ok(), "{stack} after {after}: {answer:?}");
}

/// Sends `bytes`, then reads until the server closes or `wait` passes.
/// Returns what came back and whether the connection was closed.
async fn exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> (Vec<u8>, bool) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(bytes).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline.into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => return (got, false),
        }
    }
}

fn status_line(reply: &[u8]) -> String {
    String::from_utf8_lossy(reply)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

fn http(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// HTTP/2 connection preface and an empty SETTINGS frame.
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// Sends part of a request, then resets the connection (RST, not FIN).
async fn rst_mid_request(addr: SocketAddr, partial: &[u8]) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(partial).await.unwrap();
    // SO_LINGER 0 makes the close a reset; it does not block with 0.
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

/// Cases every HTTP server (REST and gRPC, payload and pipeline) faces.
async fn http_level_cases(name: &str, stack: Stack, addr: SocketAddr, check: bool) {
    let (reply, closed) = exchange(addr, b"HELLO WORLD\r\n\r\n", Duration::from_secs(3)).await;
    assert!(closed, "{name}: invalid request left open");
    record(
        &format!("{name}: invalid HTTP request line"),
        1,
        &format!("closed ({})", status_or_empty(&reply)),
    );

    let mut broken = b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".to_vec();
    broken.extend_from_slice(&[0; 32]);
    let (reply, closed) = exchange(addr, &broken, Duration::from_secs(3)).await;
    assert!(closed, "{name}: broken preface left open");
    record(
        &format!("{name}: broken HTTP/2 preface"),
        1,
        &format!("closed ({})", status_or_empty(&reply)),
    );

    let mut garbage = PREFACE.to_vec();
    garbage.extend_from_slice(&[0xff, 0xff, 0xff, 0xee, 0x00, 0x7f, 0xff, 0xff, 0xff]);
    garbage.extend_from_slice(&[0xab; 64]);
    let (reply, closed) = exchange(addr, &garbage, Duration::from_secs(3)).await;
    let goaway = reply.windows(4).any(|w| w[3] == 0x07);
    assert!(closed, "{name}: garbage frames left open");
    record(
        &format!("{name}: garbage HTTP/2 frames"),
        1,
        if goaway { "GOAWAY, closed" } else { "closed" },
    );

    let started = Instant::now();
    let (_, closed) = exchange(addr, b"", IDLE * 4).await;
    assert!(closed, "{name}: idle connection kept");
    record(
        &format!("{name}: idle connection (slowloris)"),
        1,
        &format!("closed after {:.1} s", started.elapsed().as_secs_f64()),
    );

    rst_mid_request(addr, b"GET /payload?size_in_kb=1 HT").await;
    record(
        &format!("{name}: reset mid-request"),
        1,
        "server unaffected",
    );
    if check {
        assert_serves(stack, addr, "the resets").await;
    }
}

fn status_or_empty(reply: &[u8]) -> String {
    let line = status_line(reply);
    if line.is_empty() {
        "no answer".to_owned()
    } else if line.starts_with("HTTP/") {
        line
    } else {
        "binary answer".to_owned()
    }
}

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

/// Sends one gRPC call with a raw body over h2; returns grpc-status and
/// grpc-message (or the h2 error).
async fn grpc_raw(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    reset_after_send: bool,
) -> String {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(stream).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut client = client.ready().await.unwrap();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"))
        .header("content-type", content_type)
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut send) = client.send_request(request, false).unwrap();
    if reset_after_send {
        send.send_data(Bytes::from(body), false).unwrap();
        send.send_reset(h2::Reason::CANCEL);
        return "stream reset by us".into();
    }
    send.send_data(Bytes::from(body), true).unwrap();
    let response = match tokio::time::timeout(Duration::from_secs(5), response).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => return format!("h2 error: {e}"),
        Err(_) => return "no answer in 5 s".into(),
    };
    let (head, mut body) = response.into_parts();
    let mut status = head
        .headers
        .get("grpc-status")
        .map(|v| v.to_str().unwrap().to_owned());
    let mut message = head
        .headers
        .get("grpc-message")
        .map(|v| v.to_str().unwrap().to_owned());
    while let Some(chunk) = body.data().await {
        if chunk.is_err() {
            break;
        }
    }
    if let Ok(Some(trailers)) = body.trailers().await {
        status = status.or(trailers
            .get("grpc-status")
            .map(|v| v.to_str().unwrap().to_owned()));
        message = message.or(trailers
            .get("grpc-message")
            .map(|v| v.to_str().unwrap().to_owned()));
    }
    format!(
        "HTTP {}, grpc-status {} {}",
        head.status.as_u16(),
        status.unwrap_or_else(|| "none".into()),
        message
            .unwrap_or_default()
            .replace("%20", " ")
            .chars()
            .take(70)
            .collect::<String>()
    )
}

fn grpc_frame(message: &[u8]) -> Vec<u8> {
    let mut frame = vec![0];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(message);
    frame
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_servers_survive_bad_input() {
    for (kind, content_type) in [
        (StackKind::Grpc, "application/grpc"),
        (StackKind::GrpcJson, "application/grpc+json"),
    ] {
        let stack = Stack::plain(kind);
        let addr = payload_server(stack).await;
        let name = stack.name();
        let path = "/payload.PayloadService/GetLargePayload";
        let mut oversized = vec![0u8, 0x10, 0, 0, 0];
        oversized.extend_from_slice(&[0x0a; 100]);
        let cases: Vec<(&str, Vec<u8>, &str, bool)> = vec![
            (
                "garbage message",
                grpc_frame(&[0xff; 10]),
                content_type,
                false,
            ),
            (
                "truncated message",
                vec![0, 0, 0, 0, 100, 0x08, 0x01],
                content_type,
                false,
            ),
            (
                "message over the limit (256 MiB announced)",
                oversized,
                content_type,
                false,
            ),
            (
                "compressed flag without compression",
                vec![1, 0, 0, 0, 2, 0x08, 0x01],
                content_type,
                false,
            ),
            (
                "negative size",
                grpc_frame(if kind == StackKind::Grpc {
                    &[
                        0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
                    ]
                } else {
                    br#"{"size_in_kb":-1}"#
                }),
                content_type,
                false,
            ),
            (
                "wrong content type",
                grpc_frame(&[0x08, 0x01]),
                "text/plain",
                false,
            ),
            (
                "reset mid-stream",
                vec![0, 0, 0, 0, 50, 0x08],
                content_type,
                true,
            ),
        ];
        for (case, body, ct, reset) in cases {
            let outcome = grpc_raw(addr, path, ct, body, reset).await;
            if !reset {
                assert!(
                    !outcome.contains("grpc-status 0 "),
                    "{name} {case}: {outcome}"
                );
                assert!(!outcome.contains("no answer"), "{name} {case}: {outcome}");
            }
            record(&format!("{name}: {case}"), 1, &outcome);
            assert_serves(stack, addr, case).await;
        }
        if kind == StackKind::GrpcJson {
            let outcome = grpc_raw(addr, path, content_type, grpc_frame(b"{not json"), false).await;
            assert!(outcome.contains("grpc-status 3"), "{outcome}");
            record(&format!("{name}: malformed JSON message"), 1, &outcome);
        }
        http_level_cases(&name, stack, addr, true).await;
    }
    print_table();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_ceiling_survives_bad_input() {
    let stack = Stack::plain(StackKind::Tcp);
    let addr = payload_server(stack).await;
    for (case, bytes) in [
        (
            "wrong request length",
            vec![0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        ),
        (
            "text instead of a frame",
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
        ),
        (
            "size over the limit",
            [&[0u8, 0, 0, 8][..], &i64::MAX.to_le_bytes()].concat(),
        ),
    ] {
        let (reply, closed) = exchange(addr, &bytes, Duration::from_secs(3)).await;
        assert!(
            closed && reply.starts_with(&[0xff; 4]),
            "tcp {case}: {reply:?}"
        );
        let text = String::from_utf8_lossy(&reply[8.min(reply.len())..]).into_owned();
        record(
            &format!("tcp: {case}"),
            1,
            &format!(
                "error frame \"{}\", closed",
                text.chars().take(50).collect::<String>()
            ),
        );
        assert_serves(stack, addr, case).await;
    }
    let (_, closed) = exchange(addr, &[0, 0, 0, 8, 1, 2], Duration::from_secs(5)).await;
    assert!(closed);
    record(
        "tcp: truncated request, then idle",
        1,
        "closed by the idle timeout",
    );
    rst_mid_request(addr, &[0, 0, 0, 8, 1]).await;
    record("tcp: reset mid-request", 1, "server unaffected");
    assert_serves(stack, addr, "tcp resets").await;
    print_table();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_servers_survive_bad_input() {
    let rest = pipeline_server(Stack::REST, Role::Producer).await;
    let (reply, _) = exchange(
        rest,
        &http("GET", "/generate?records=x", "", b""),
        Duration::from_secs(3),
    )
    .await;
    assert!(status_line(&reply).contains("400"));
    record(
        "pipeline rest producer: records not a number",
        1,
        &status_line(&reply),
    );
    let (reply, _) = exchange(
        rest,
        &http("GET", "/generate?records=5000", "", b""),
        Duration::from_secs(3),
    )
    .await;
    assert!(status_line(&reply).contains("413"));
    record(
        "pipeline rest producer: records over the limit",
        1,
        &status_line(&reply),
    );
    http_level_cases("pipeline rest producer", Stack::REST, rest, false).await;
    let (reply, _) = exchange(
        rest,
        &http("GET", "/generate?records=3", "", b""),
        Duration::from_secs(3),
    )
    .await;
    assert!(status_line(&reply).contains("200"), "still serves");

    let grpc = pipeline_server(Stack::GRPC, Role::Producer).await;
    let outcome = grpc_raw(
        grpc,
        "/ProducerService/Generate",
        "application/grpc",
        grpc_frame(&[0xff; 8]),
        false,
    )
    .await;
    assert!(!outcome.contains("grpc-status 0 "), "{outcome}");
    record("pipeline grpc producer: garbage message", 1, &outcome);
    let outcome = grpc_raw(
        grpc,
        "/ProducerService/GenerateStream",
        "application/grpc",
        vec![0, 0, 0, 0, 30, 0x08],
        true,
    )
    .await;
    record(
        "pipeline grpc producer: stream reset mid-message",
        1,
        &outcome,
    );
    http_level_cases("pipeline grpc producer", Stack::GRPC, grpc, false).await;
    let outcome = grpc_raw(
        grpc,
        "/ProducerService/Generate",
        "application/grpc",
        grpc_frame(&[0x10, 0x03]),
        false,
    )
    .await;
    assert!(outcome.contains("grpc-status 0"), "still serves: {outcome}");
    print_table();
}

fn print_table() {
    TABLE.with(|table| {
        let mut out = String::from("\n| kind | sent | outcome |\n| --- | ---: | --- |\n");
        for (kind, sent, outcome) in table.borrow().iter() {
            out.push_str(&format!("| {kind} | {sent} | {outcome} |\n"));
        }
        eprint!("{out}");
    });
}
