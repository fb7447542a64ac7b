//! The `grpc-json` stack's codec: gRPC framing, JSON bodies. Messages use
//! the same JSON as the REST stack (`{"data":"xxx..."}`, the payload as
//! text, not proto3-JSON's base64), so `grpc-json` vs `rest-h2` differs in
//! framing only, and `grpc-json` vs `grpc` in encoding only.

use std::marker::PhantomData;

use bytes::{Buf, BufMut, Bytes};
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use crate::DataJson;
use crate::payload::{EchoMessage, PayloadRequest, PayloadResponse};

/// The content type `grpc-json` sends and answers with.
pub const CONTENT_TYPE: &str = "application/grpc+json";

/// A message with a JSON form.
pub trait JsonMessage: Sized + Send + 'static {
    fn write_json(&self, out: &mut Vec<u8>);
    fn read_json(bytes: &[u8]) -> Result<Self, String>;
}

fn data_json(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(data.len() + 11);
    crate::json::to_writer(out, &DataJson::of(data)).expect("writing to memory");
}

fn read_data(bytes: &[u8]) -> Result<Bytes, String> {
    let message: DataJson<'_> = crate::json::from_slice(bytes)?;
    Ok(Bytes::copy_from_slice(message.data.as_bytes()))
}

impl JsonMessage for PayloadResponse {
    fn write_json(&self, out: &mut Vec<u8>) {
        data_json(&self.data, out);
    }
    fn read_json(bytes: &[u8]) -> Result<Self, String> {
        Ok(PayloadResponse {
            data: read_data(bytes)?,
        })
    }
}

impl JsonMessage for EchoMessage {
    fn write_json(&self, out: &mut Vec<u8>) {
        data_json(&self.data, out);
    }
    fn read_json(bytes: &[u8]) -> Result<Self, String> {
        Ok(EchoMessage {
            data: read_data(bytes)?,
        })
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct PayloadRequestJson {
    #[serde(default)]
    size_in_kb: i64,
}

impl JsonMessage for PayloadRequest {
    fn write_json(&self, out: &mut Vec<u8>) {
        crate::json::to_writer(
            out,
            &PayloadRequestJson {
                size_in_kb: self.size_in_kb,
            },
        )
        .expect("writing to memory");
    }
    fn read_json(bytes: &[u8]) -> Result<Self, String> {
        let json: PayloadRequestJson = crate::json::from_slice(bytes)?;
        Ok(PayloadRequest {
            size_in_kb: json.size_in_kb,
        })
    }
}

/// The pipeline's messages: the JSON of the REST pipeline (serde, same
/// field names), so the pipeline over `grpc-json` carries what the REST
/// pipeline carries, in gRPC frames.
macro_rules! serde_json_message {
    ($($t:ty),*) => {$(
        impl JsonMessage for $t {
            fn write_json(&self, out: &mut Vec<u8>) {
                crate::json::to_writer(out, self).expect("writing to memory");
            }
            fn read_json(bytes: &[u8]) -> Result<Self, String> {
                crate::json::from_slice(bytes)
            }
        }
    )*};
}

serde_json_message!(
    crate::pipeline::GenerateRequest,
    crate::pipeline::SeriesRequest,
    crate::pipeline::RecordBatch,
    crate::pipeline::ProcessRequest,
    crate::pipeline::ProcessedBatch,
    crate::pipeline::AggregateRequest,
    crate::pipeline::Summary
);

/// Encodes `E` and decodes `D` as JSON inside gRPC frames.
#[derive(Debug)]
pub struct JsonCodec<E, D>(PhantomData<(E, D)>);

impl<E, D> Default for JsonCodec<E, D> {
    fn default() -> Self {
        JsonCodec(PhantomData)
    }
}

impl<E: JsonMessage, D: JsonMessage> Codec for JsonCodec<E, D> {
    type Encode = E;
    type Decode = D;
    type Encoder = JsonEncoder<E>;
    type Decoder = JsonDecoder<D>;

    fn encoder(&mut self) -> Self::Encoder {
        JsonEncoder(PhantomData, Vec::new())
    }

    fn decoder(&mut self) -> Self::Decoder {
        JsonDecoder(PhantomData)
    }
}

#[derive(Debug)]
pub struct JsonEncoder<E>(PhantomData<E>, Vec<u8>);

impl<E: JsonMessage> Encoder for JsonEncoder<E> {
    type Item = E;
    type Error = Status;

    fn encode(&mut self, item: E, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        self.1.clear();
        item.write_json(&mut self.1);
        dst.put_slice(&self.1);
        Ok(())
    }
}

#[derive(Debug)]
pub struct JsonDecoder<D>(PhantomData<D>);

impl<D: JsonMessage> Decoder for JsonDecoder<D> {
    type Item = D;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<D>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        D::read_json(&bytes)
            .map(Some)
            .map_err(|why| Status::invalid_argument(format!("malformed JSON message: {why}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_forms_round_trip() {
        let mut out = Vec::new();
        PayloadResponse {
            data: Bytes::from_static(b"xxx"),
        }
        .write_json(&mut out);
        assert_eq!(out, br#"{"data":"xxx"}"#);
        assert_eq!(
            PayloadResponse::read_json(&out).unwrap().data,
            Bytes::from_static(b"xxx")
        );
        out.clear();
        PayloadRequest { size_in_kb: 512 }.write_json(&mut out);
        assert_eq!(out, br#"{"size_in_kb":512}"#);
        assert_eq!(PayloadRequest::read_json(b"{}").unwrap().size_in_kb, 0);
        assert!(EchoMessage::read_json(b"{").is_err());
    }
}
