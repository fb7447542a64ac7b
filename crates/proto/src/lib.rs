//! The wire contracts of wirebench, in one place.
//!
//! `payload` is generated from `proto/payload.proto` (seed 000). The JSON
//! mirror types below are what the REST adapters put on the wire, so both
//! protocols carry the same fields with the same names.

pub mod payload {
    tonic::include_proto!("payload");
}

/// The payload service with the JSON codec (`grpc-json` stack): same paths,
/// `application/grpc+json` bodies.
pub mod payload_json {
    include!(concat!(env!("OUT_DIR"), "/json/payload.rs"));
}

pub mod compression;
pub mod json;
pub mod json_codec;
pub mod json_services;
pub mod message;

/// Seed 002's pipeline (`proto/services.proto`, no proto package).
pub mod pipeline {
    tonic::include_proto!("_");
    // Its services, with the codec of `records_codec`.
    include!(concat!(env!("OUT_DIR"), "/records/_.rs"));
}

/// The pipeline's services with the JSON codec (the pipeline over
/// `grpc-json`): same paths and messages, `application/grpc+json` bodies.
pub mod pipeline_json {
    include!(concat!(env!("OUT_DIR"), "/json/_.rs"));
}

pub mod pipeline_hop;
pub mod pipeline_work;
pub mod quic;
pub mod records_codec;
pub mod tcp_wire;

pub use vocab::PROTOBUF_MEDIA_TYPE;

/// HTTP/2 flow-control windows of every gRPC client and server wirebench
/// runs, fixed rather than adaptive so runs repeat: a 512 KiB message fits
/// one stream window, 16 such answers fit the connection window.
///
/// They must also be large for a second reason: h2 (0.4.20) closes a
/// connection with ENHANCE_YOUR_CALM ("too_many_data_frames") when small DATA
/// frames pile up unread beyond a budget of half the connection window. A
/// bidirectional stream carrying hundreds of 10-byte requests (the
/// pipeline's hops) trips that budget at the 64 KiB adaptive-window start
/// whenever the reader is briefly starved of CPU; at 16 MiB it would take
/// some 34,000 unread frames.
pub const GRPC_STREAM_WINDOW_BYTES: u32 = 1 << 20;
pub const GRPC_CONNECTION_WINDOW_BYTES: u32 = 16 << 20;

/// The largest HTTP/2 frame every wirebench client and server accepts
/// (SETTINGS_MAX_FRAME_SIZE; HTTP/2's default is 16 KiB). h2 writes each
/// DATA frame with a system call of its own: at 16 KiB a 512 KiB answer
/// took 32 writes and the gRPC server spent 65% of its CPU in the kernel
/// (docs/tuning.md). rest-h2 and gRPC get the same.
pub const HTTP2_MAX_FRAME_BYTES: u32 = 1 << 20;

/// Encoded `FileDescriptorSet` of every contract, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptors.bin"));

/// JSON mirror of `payload.PayloadResponse` / `payload.EchoMessage`:
/// `{"data": "xxx..."}`. On the JSON side `data` is text, as in seed 000.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct DataJson<'a> {
    #[serde(borrow)]
    pub data: std::borrow::Cow<'a, str>,
}

impl<'a> DataJson<'a> {
    /// The JSON form of payload bytes: borrowed when they are UTF-8 (the
    /// payload's `x`s always are), checked by simdutf8 (SIMD, the CPU's
    /// widest found at run time). `String::from_utf8_lossy`, which this
    /// replaced, walks the bytes a chunk at a time and was half of the
    /// REST server's CPU at 512 KiB; std's `from_utf8` still 14% with
    /// sonic-rs (docs/tuning.md).
    pub fn of(data: &'a [u8]) -> DataJson<'a> {
        let data = match simdutf8::basic::from_utf8(data) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(data),
        };
        DataJson { data }
    }
}

pub mod vocab;
