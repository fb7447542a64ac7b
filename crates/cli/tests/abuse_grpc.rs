//! Bad input against the gRPC payload servers (protobuf and JSON codecs),
//! at the HTTP/2 frame level and on the raw socket.

mod common;

use common::wire::*;
use wirebench_proto::vocab::{Stack, StackKind};

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
