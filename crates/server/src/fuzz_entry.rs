//! Entry points for fuzzing the paths that decode what clients send: each
//! takes arbitrary bytes and must never panic, hang or allocate without
//! bound. The cargo-fuzz targets in `fuzz/` call these, and so does a
//! stable-toolchain smoke test (`tests/fuzz_smoke.rs`) on every run.

use bytes::Bytes;
use prost::Message;
use wirebench_proto::json_codec::JsonMessage;
use wirebench_proto::payload::{EchoMessage, PayloadRequest, PayloadResponse};
use wirebench_proto::pipeline::{
    AggregateRequest, GenerateRequest, ProcessRequest, ProcessedBatch, RecordBatch,
};

use crate::PayloadHandler;

/// A small limit, so a fuzzed size cannot make the handler allocate much.
const LIMIT_KB: u64 = 64;

/// `POST /echo`: the first byte picks the content type, the rest is the body.
pub fn rest_echo(data: &[u8]) {
    let content_type = match data.first().map(|b| b % 3) {
        Some(0) => "application/json",
        Some(1) => wirebench_proto::PROTOBUF_MEDIA_TYPE,
        _ => "text/plain",
    };
    let body = Bytes::copy_from_slice(data.get(1..).unwrap_or_default());
    if let Ok((_, echoed)) = crate::rest::decode_echo(content_type, body) {
        let _ = PayloadHandler::new(LIMIT_KB).echo(echoed);
    }
}

/// `GET /payload?size_in_kb=...`: the bytes as the parameter's text.
pub fn rest_size(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(size) = crate::rest::parse_size(Some(&text)) {
        let _ = PayloadHandler::new(LIMIT_KB).payload(size);
    }
}

/// Every protobuf message a server decodes, from the same bytes.
pub fn protobuf(data: &[u8]) {
    if let Ok(request) = PayloadRequest::decode(data) {
        let _ = PayloadHandler::new(LIMIT_KB).payload(request.size_in_kb);
    }
    let _ = EchoMessage::decode(data);
    let _ = GenerateRequest::decode(data);
    let _ = ProcessRequest::decode(data);
    let _ = AggregateRequest::decode(data);
    let _ = RecordBatch::decode(data);
    let _ = ProcessedBatch::decode(data);
}

/// The grpc-json codec's messages (payload service and pipeline).
pub fn grpc_json(data: &[u8]) {
    let _ = PayloadRequest::read_json(data);
    let _ = PayloadResponse::read_json(data);
    let _ = EchoMessage::read_json(data);
    let _ = GenerateRequest::read_json(data);
    let _ = ProcessRequest::read_json(data);
    let _ = AggregateRequest::read_json(data);
    let _ = RecordBatch::read_json(data);
    let _ = ProcessedBatch::read_json(data);
}

/// The TCP ceiling's payload request body (the pipeline's are protobuf,
/// covered by [`protobuf`]).
pub fn tcp_request(data: &[u8]) {
    if let Ok(size) = wirebench_proto::tcp_wire::decode_payload_request(data) {
        let _ = PayloadHandler::new(LIMIT_KB).payload(size);
    }
}
