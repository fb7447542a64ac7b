//! Bad input gets a clear answer and the server keeps serving: REST checked
//! on the wire bytes, gRPC through a real tonic client, against servers on
//! 127.0.0.1:0.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tonic::Code;
use wirebench_proto::payload::payload_service_client::PayloadServiceClient;
use wirebench_proto::payload::{EchoMessage, PayloadRequest};
use wirebench_proto::vocab::Stack;
use wirebench_server::PayloadHandler;

const MAX_SIZE_KB: u64 = 1024;

async fn start(stack: Stack) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(wirebench_server::serve(
        stack,
        listener,
        PayloadHandler::new(MAX_SIZE_KB),
        wirebench_server::ServeOptions::default(),
        std::future::pending(),
    ));
    addr
}

/// Sends one raw HTTP/1.1 request (with `Connection: close`) and returns
/// (status code, body).
async fn http(addr: SocketAddr, request: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let text = String::from_utf8(response).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_owned();
    (status, body)
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
}

fn post(path: &str, content_type: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn rest_payload_is_exactly_n_kib_and_missing_size_means_one() {
    let addr = start(Stack::REST).await;
    let (status, body) = http(addr, &get("/payload?size_in_kb=512")).await;
    assert_eq!(status, 200);
    assert_eq!(body, format!("{{\"data\":\"{}\"}}", "x".repeat(512 * 1024)));
    let (status, body) = http(addr, &get("/payload")).await;
    assert_eq!((status, body.len()), (200, 1024 + 11));
}

#[tokio::test]
async fn rest_bad_input_gets_the_right_status_and_the_server_keeps_serving() {
    let addr = start(Stack::REST).await;
    let too_big = format!("/payload?size_in_kb={}", MAX_SIZE_KB + 1);
    let oversized_echo = format!(
        "{{\"data\":\"{}\"}}",
        "x".repeat((MAX_SIZE_KB as usize + 70) * 1024)
    );
    let cases: [(String, u16, &str); 8] = [
        (get("/payload?size_in_kb=abc"), 400, "must be an integer"),
        (get("/payload?size_in_kb=1.5"), 400, "must be an integer"),
        (get("/payload?size_in_kb=-3"), 400, "zero or positive"),
        (get(&too_big), 413, "over this server's limit"),
        (get("/nowhere"), 404, "no such route"),
        (
            post("/echo", "application/json", "{\"data\":"),
            400,
            "malformed JSON",
        ),
        (
            post("/echo", "text/plain", "{\"data\":\"x\"}"),
            415,
            "application/json",
        ),
        (post("/echo", "application/json", &oversized_echo), 413, ""),
    ];
    for (request, want_status, want_text) in cases {
        let (status, body) = http(addr, &request).await;
        assert_eq!(status, want_status, "{}", request.lines().next().unwrap());
        assert!(body.contains(want_text), "{body}");
        // And the next good request is answered correctly.
        let (status, body) = http(addr, &get("/payload?size_in_kb=2")).await;
        assert_eq!((status, body.len()), (200, 2048 + 11));
    }
    let (status, body) = http(
        addr,
        &post("/echo", "application/json", "{\"data\":\"hello\"}"),
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "{\"data\":\"hello\"}"));
}

async fn grpc_client(addr: SocketAddr) -> PayloadServiceClient<tonic::transport::Channel> {
    PayloadServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
        .max_decoding_message_size(usize::MAX)
        .max_encoding_message_size(usize::MAX)
}

#[tokio::test]
async fn grpc_payload_is_exactly_n_kib() {
    let addr = start(Stack::GRPC).await;
    let mut client = grpc_client(addr).await;
    let data = client
        .get_large_payload(PayloadRequest { size_in_kb: 512 })
        .await
        .unwrap()
        .into_inner()
        .data;
    assert_eq!(data.len(), 512 * 1024);
    assert!(data.iter().all(|&b| b == b'x'));
    let echoed = client
        .echo(EchoMessage {
            data: bytes::Bytes::from_static(b"hello"),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(&echoed.data[..], b"hello");
}

#[tokio::test]
async fn grpc_bad_input_gets_the_right_code_and_the_server_keeps_serving() {
    let addr = start(Stack::GRPC).await;
    let mut client = grpc_client(addr).await;
    let negative = client
        .get_large_payload(PayloadRequest { size_in_kb: -1 })
        .await
        .unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert!(negative.message().contains("zero or positive"));
    let too_big = client
        .get_large_payload(PayloadRequest {
            size_in_kb: MAX_SIZE_KB as i64 + 1,
        })
        .await
        .unwrap_err();
    assert_eq!(too_big.code(), Code::ResourceExhausted);
    assert!(too_big.message().contains("--max-size-kb"));
    // A message over the limit is refused by the transport before the
    // handler sees it (tonic answers OUT_OF_RANGE for that).
    let huge = vec![b'x'; (MAX_SIZE_KB as usize + 2) * 1024];
    let refused = client
        .echo(EchoMessage { data: huge.into() })
        .await
        .unwrap_err();
    assert!(
        matches!(refused.code(), Code::OutOfRange | Code::ResourceExhausted),
        "{refused:?}"
    );
    let ok = client
        .get_large_payload(PayloadRequest { size_in_kb: 3 })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(ok.data.len(), 3 * 1024);
}

#[tokio::test]
async fn grpc_health_service_reports_serving() {
    let addr = start(Stack::GRPC).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let response = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "payload.PayloadService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        response.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
}

#[tokio::test]
async fn reflection_lists_every_service_in_both_versions() {
    use tonic_reflection::pb::{v1, v1alpha};
    let addr = start(Stack::GRPC).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let mut answers = client
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answers.message().await.unwrap().unwrap().message_response
    else {
        panic!("not a service list");
    };
    let names: Vec<_> = list.service.into_iter().map(|s| s.name).collect();
    for name in ["payload.PayloadService", "grpc.health.v1.Health"] {
        assert!(names.iter().any(|n| n == name), "{names:?}");
    }

    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut client = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let mut answers = client
        .server_reflection_info(tokio_stream::once(request))
        .await
        .unwrap()
        .into_inner();
    assert!(
        answers.message().await.unwrap().is_some(),
        "v1alpha answers too"
    );
}
