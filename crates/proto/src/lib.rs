//! The wire contracts of wirebench, in one place.
//!
//! `payload` is generated from `proto/payload.proto` (seed 000). The JSON
//! mirror types below are what the REST adapters put on the wire, so both
//! protocols carry the same fields with the same names.

pub mod payload {
    tonic::include_proto!("payload");
}

/// Seed 002's pipeline (`proto/services.proto`, no proto package).
pub mod pipeline {
    tonic::include_proto!("_");
}

/// Encoded `FileDescriptorSet` of every contract, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptors.bin"));

/// JSON mirror of `payload.PayloadResponse` / `payload.EchoMessage`:
/// `{"data": "xxx..."}`. On the JSON side `data` is text, as in seed 000.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct DataJson<'a> {
    #[serde(borrow)]
    pub data: std::borrow::Cow<'a, str>,
}

pub mod vocab;
