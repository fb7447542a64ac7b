//! What the abuse tests share: servers with short timeouts, raw-socket and
//! raw-HTTP/2 exchanges, the "still serves" check, the cases every HTTP
//! server faces, and the printed table of what was sent and what came back.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wirebench_load::contract::MessageJob;
use wirebench_load::{Client, Job, Target};
use wirebench_proto::message::{Direction, Shape};
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::message::MessageHandler;
use wirebench_server::pipeline::{HopMode, Limits, PipelineConfig, Role};
use wirebench_server::{PayloadHandler, ServeOptions};

pub const IDLE: Duration = Duration::from_secs(1);
pub const HEADER: Duration = Duration::from_secs(1);
pub const REQUEST: Duration = Duration::from_secs(3);

/// One row of the bad-input table (run the tests with `--nocapture` to
/// see them): what was sent, how many, and what came back.
pub fn record(kind: &str, sent: u32, outcome: &str) {
    eprintln!("| {kind} | {sent} | {outcome} |");
}

/// The options of every server under test, payload and pipeline alike.
pub fn options() -> ServeOptions {
    ServeOptions {
        idle_timeout: IDLE,
        header_timeout: HEADER,
        request_timeout: REQUEST,
        ..ServeOptions::default()
    }
}

pub async fn payload_server(stack: Stack) -> SocketAddr {
    payload_server_with(stack, options()).await
}

/// A payload server with `options` of its own.
pub async fn payload_server_with(stack: Stack, options: ServeOptions) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(wirebench_server::serve(
        stack,
        listener,
        PayloadHandler::new(256),
        options,
        std::future::pending(),
    ));
    addr
}

pub async fn pipeline_server(stack: Stack, role: Role) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = PipelineConfig {
        role,
        upstream: None,
        limits: Limits {
            default_records: 10,
            max_records: 1000,
        },
        hop: HopMode::Stream,
        hop_timeout: Duration::from_secs(1),
        upstream_tls: None,
    };
    tokio::spawn(wirebench_server::serve(
        stack,
        listener,
        config,
        options(),
        std::future::pending(),
    ));
    addr
}

/// A correct request gets a correct answer.
pub async fn assert_serves(stack: Stack, addr: SocketAddr, after: &str) {
    let target = Target {
        authority: addr.to_string(),
        tls: None,
        kind: Job::Payload { size_kb: 4 }.request(stack).unwrap(),
    };
    let client = Client::new(&target, 1).await.unwrap();
    let answer = client.call(0, Duration::from_secs(5)).await;
    assert!(answer.is_ok(), "{stack} after {after}: {answer:?}");
}

/// A message server of `stack` serving `order` (10 items, seed 1), with a
/// 256 KiB limit.
pub async fn message_server(stack: Stack) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler = MessageHandler::shape(Shape::Order, 1, 10, 256);
    tokio::spawn(wirebench_server::serve(
        stack,
        listener,
        handler,
        options(),
        std::future::pending(),
    ));
    addr
}

/// An echo of the order the message server serves, checked byte for byte.
pub async fn assert_serves_message(stack: Stack, addr: SocketAddr, after: &str) {
    let job = MessageJob::shape(Shape::Order, 1, 10, Direction::Echo);
    let target = Target {
        authority: addr.to_string(),
        tls: None,
        kind: Job::Message(std::sync::Arc::new(job))
            .request(stack)
            .unwrap(),
    };
    let client = Client::new(&target, 1).await.unwrap();
    let answer = client.call(0, Duration::from_secs(5)).await;
    assert!(answer.is_ok(), "{stack} after {after}: {answer:?}");
}

/// Three records from a pipeline producer, over REST or gRPC.
pub async fn assert_producer_serves(kind: StackKind, addr: SocketAddr) {
    if kind == StackKind::Rest {
        let request = http("GET", "/generate?records=3", "", b"");
        let (reply, _) = exchange(addr, &request, Duration::from_secs(3)).await;
        assert!(status_line(&reply).contains("200"), "still serves");
    } else {
        let three = grpc_frame(&[0x10, 0x03]);
        let path = "/ProducerService/Generate";
        let outcome = grpc_raw(addr, path, "application/grpc", three, false).await;
        assert!(outcome.contains("grpc-status 0"), "still serves: {outcome}");
    }
}

/// Sends `bytes`, then reads until the server closes or `wait` passes.
/// Returns what came back and whether the connection was closed.
pub async fn exchange(addr: SocketAddr, bytes: &[u8], wait: Duration) -> (Vec<u8>, bool) {
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

pub fn status_line(reply: &[u8]) -> String {
    String::from_utf8_lossy(reply)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

pub fn http(method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// HTTP/2 connection preface and an empty SETTINGS frame.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00";

/// Sends part of a request, then resets the connection (RST, not FIN).
pub async fn rst_mid_request(addr: SocketAddr, partial: &[u8]) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(partial).await.unwrap();
    // SO_LINGER 0 makes the close a reset; it does not block with 0.
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
    drop(stream);
}

/// What every HTTP server (REST and gRPC, payload and pipeline) faces.
#[derive(Debug, Clone, Copy)]
pub enum HttpAbuse {
    InvalidRequestLine,
    BrokenPreface,
    GarbageFrames,
    /// Connects and sends nothing (slowloris).
    Idle,
    ResetMidRequest,
}

/// Sends one [`HttpAbuse`] case to the server at `addr` and checks it was
/// refused (the connection closed).
pub async fn http_abuse(case: HttpAbuse, name: &str, addr: SocketAddr) {
    let (what, outcome) = match case {
        HttpAbuse::InvalidRequestLine => {
            let (reply, closed) =
                exchange(addr, b"HELLO WORLD\r\n\r\n", Duration::from_secs(3)).await;
            assert!(closed, "{name}: invalid request left open");
            (
                "invalid HTTP request line",
                format!("closed ({})", status_or_empty(&reply)),
            )
        }
        HttpAbuse::BrokenPreface => {
            let mut broken = b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n".to_vec();
            broken.extend_from_slice(&[0; 32]);
            let (reply, closed) = exchange(addr, &broken, Duration::from_secs(3)).await;
            assert!(closed, "{name}: broken preface left open");
            (
                "broken HTTP/2 preface",
                format!("closed ({})", status_or_empty(&reply)),
            )
        }
        HttpAbuse::GarbageFrames => {
            let mut garbage = PREFACE.to_vec();
            garbage.extend_from_slice(&[0xff, 0xff, 0xff, 0xee, 0x00, 0x7f, 0xff, 0xff, 0xff]);
            garbage.extend_from_slice(&[0xab; 64]);
            let (reply, closed) = exchange(addr, &garbage, Duration::from_secs(3)).await;
            let goaway = reply.windows(4).any(|w| w[3] == 0x07);
            assert!(closed, "{name}: garbage frames left open");
            let outcome = if goaway { "GOAWAY, closed" } else { "closed" };
            ("garbage HTTP/2 frames", outcome.to_owned())
        }
        HttpAbuse::Idle => {
            let started = Instant::now();
            let (_, closed) = exchange(addr, b"", IDLE * 4).await;
            assert!(closed, "{name}: idle connection kept");
            (
                "idle connection (slowloris)",
                format!("closed after {:.1} s", started.elapsed().as_secs_f64()),
            )
        }
        HttpAbuse::ResetMidRequest => {
            rst_mid_request(addr, b"GET /payload?size_in_kb=1 HT").await;
            ("reset mid-request", "server unaffected".to_owned())
        }
    };
    record(&format!("{name}: {what}"), 1, &outcome);
}

pub fn status_or_empty(reply: &[u8]) -> String {
    let line = status_line(reply);
    if line.is_empty() {
        "no answer".to_owned()
    } else if line.starts_with("HTTP/") {
        line
    } else {
        "binary answer".to_owned()
    }
}

/// Sends one gRPC call with a raw body over h2; returns grpc-status and
/// grpc-message (or the h2 error).
/// Opens an h2c connection to `addr` and starts a POST to `path` with
/// `headers`, its body left open: the answer to come, and the body's
/// sender.
pub async fn h2_post(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (h2::client::ResponseFuture, h2::SendStream<Bytes>) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(stream).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let mut client = client.ready().await.unwrap();
    let mut request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    client
        .send_request(request.body(()).unwrap(), false)
        .unwrap()
}

pub async fn grpc_raw(
    addr: SocketAddr,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
    reset_after_send: bool,
) -> String {
    let headers = [("content-type", content_type), ("te", "trailers")];
    let (response, mut send) = h2_post(addr, path, &headers).await;
    if reset_after_send {
        // The server may already have ended the stream; then there is
        // nothing left to reset.
        if send.send_data(Bytes::from(body), false).is_ok() {
            send.send_reset(h2::Reason::CANCEL);
        }
        return "stream reset by us".into();
    }
    // A server that rejects on the headers alone (415, a refused stream)
    // may answer and close the stream before the body is sent: the answer
    // is what this test checks, so a refused send is not a failure.
    let _ = send.send_data(Bytes::from(body), true);
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

pub fn grpc_frame(message: &[u8]) -> Vec<u8> {
    let mut frame = vec![0];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(message);
    frame
}
