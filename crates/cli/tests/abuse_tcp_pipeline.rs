//! Bad input against the TCP ceiling and the pipeline's REST, gRPC,
//! grpc-json and TCP roles.

mod common;

use std::time::Duration;

use common::wire::*;
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::pipeline::Role;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_tcp_and_grpc_json_roles_survive_bad_input() {
    use prost::Message;
    use wirebench_proto::pipeline::{GenerateRequest, RecordBatch};

    let tcp = pipeline_server(Stack::plain(StackKind::Tcp), Role::Producer).await;
    let frame = |body: &[u8]| wirebench_proto::tcp_wire::frame(body);
    let good = frame(
        &GenerateRequest {
            request_id: 7,
            records: 3,
        }
        .encode_to_vec(),
    );
    for (case, bytes, code) in [
        ("garbage message", frame(&[0xff; 8]), 3u8),
        (
            "records over the limit",
            frame(
                &GenerateRequest {
                    request_id: 1,
                    records: 5000,
                }
                .encode_to_vec(),
            ),
            8,
        ),
        ("length over the limit", vec![0x7f, 0, 0, 0, 1], 3),
    ] {
        let (reply, closed) = exchange(tcp, &bytes, Duration::from_secs(3)).await;
        assert!(
            closed && reply.starts_with(&[0xff; 4]) && reply.get(8) == Some(&code),
            "tcp producer {case}: {reply:?}"
        );
        let text = String::from_utf8_lossy(&reply[9..]).into_owned();
        record(
            &format!("pipeline tcp producer: {case}"),
            1,
            &format!(
                "error frame, code {code}: \"{}\", closed",
                text.chars().take(40).collect::<String>()
            ),
        );
        let (reply, _) = exchange(tcp, &good, Duration::from_secs(3)).await;
        let batch = RecordBatch::decode(&reply[4..]).expect("still serves");
        assert_eq!((batch.request_id, batch.records.len()), (7, 3), "{case}");
    }

    let json = pipeline_server(Stack::plain(StackKind::GrpcJson), Role::Producer).await;
    let outcome = grpc_raw(
        json,
        "/ProducerService/Generate",
        "application/grpc+json",
        grpc_frame(b"{not json"),
        false,
    )
    .await;
    assert!(outcome.contains("grpc-status 3 "), "{outcome}");
    record("pipeline grpc-json producer: malformed JSON", 1, &outcome);
    let outcome = grpc_raw(
        json,
        "/ProducerService/Generate",
        "application/grpc",
        grpc_frame(&[0x10, 0x03]),
        false,
    )
    .await;
    assert!(outcome.contains("415"), "{outcome}");
    record(
        "pipeline grpc-json producer: protobuf content type",
        1,
        &outcome,
    );
    let outcome = grpc_raw(
        json,
        "/ProducerService/Generate",
        "application/grpc+json",
        grpc_frame(br#"{"records":3}"#),
        false,
    )
    .await;
    assert!(outcome.contains("grpc-status 0"), "still serves: {outcome}");
    print_table();
}
