//! What clients send to the servers of a trial, per workload and stack,
//! and the check every answer must pass.

use std::net::SocketAddr;

use anyhow::Context;
use wirebench_load::verify::BodyCheck;
use wirebench_load::{GrpcCall, HttpTarget, Target, TargetKind, TcpTarget, TlsClient};
use wirebench_proto::pipeline::AggregateRequest;
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::pipeline;
use wirebench_server::rest::PROTOBUF;

use crate::args::BenchWorkload;

/// The request for `stack`'s front server at `addr`; `tls` when the stack
/// is `+tls`.
pub fn front_target(
    workload: BenchWorkload,
    stack: Stack,
    addr: SocketAddr,
    size_kb: u64,
    records: u32,
    tls: Option<TlsClient>,
) -> anyhow::Result<Target> {
    let len = usize::try_from(size_kb * 1024).context("size too large")?;
    let size_in_kb = i64::try_from(size_kb)?;
    let http = |path: String, check: BodyCheck, protobuf: bool| -> anyhow::Result<TargetKind> {
        let mut headers = http::HeaderMap::new();
        if protobuf {
            headers.insert(
                http::header::ACCEPT,
                http::HeaderValue::from_static(PROTOBUF),
            );
        }
        Ok(TargetKind::Http(HttpTarget {
            path: path.parse()?,
            http2: stack.kind == StackKind::RestH2,
            method: http::Method::GET,
            headers,
            body: bytes::Bytes::new(),
            check,
        }))
    };
    let kind = match (workload, stack.kind) {
        (BenchWorkload::Payload, StackKind::Rest | StackKind::RestH2) => http(
            format!("/payload?size_in_kb={size_kb}"),
            BodyCheck::PayloadJson { len },
            false,
        )?,
        (BenchWorkload::Payload, StackKind::RestProto) => http(
            format!("/payload?size_in_kb={size_kb}"),
            BodyCheck::PayloadProto { len },
            true,
        )?,
        (BenchWorkload::Payload, StackKind::Grpc | StackKind::GrpcJson) => TargetKind::Grpc {
            call: GrpcCall::GetLargePayload { size_in_kb },
            json: stack.kind == StackKind::GrpcJson,
        },
        (BenchWorkload::Payload, StackKind::Tcp) => TargetKind::Tcp(TcpTarget::payload(size_in_kb)),
        (BenchWorkload::Pipeline, StackKind::Rest | StackKind::RestH2) => http(
            format!("/aggregate?records={records}"),
            BodyCheck::Summary(pipeline::work::expected_summary(records)),
            false,
        )?,
        (BenchWorkload::Pipeline, StackKind::RestProto) => http(
            format!("/aggregate?records={records}"),
            BodyCheck::SummaryProto(pipeline::work::expected_summary(records)),
            true,
        )?,
        (BenchWorkload::Pipeline, StackKind::Grpc | StackKind::GrpcJson) => TargetKind::Grpc {
            call: GrpcCall::Aggregate {
                request: AggregateRequest { records },
                expected: pipeline::work::expected_summary(records),
            },
            json: stack.kind == StackKind::GrpcJson,
        },
        (BenchWorkload::Pipeline, StackKind::Tcp) => TargetKind::Tcp(TcpTarget::aggregate(
            &AggregateRequest { records },
            pipeline::work::expected_summary(records),
        )),
    };
    Ok(Target {
        authority: addr.to_string(),
        tls,
        kind,
    })
}
