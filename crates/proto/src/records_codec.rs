//! The pipeline's protobuf codec over gRPC: prost, with each message
//! encoded into a `Vec` first and handed to tonic as one slice.
//!
//! tonic's own `ProstCodec` encodes straight into its frame buffer
//! (`EncodeBuf`), which forwards every `put_u8` to `put_slice`: each byte
//! of each varint becomes a `BytesMut` extend. The pipeline's batches are
//! hundreds of small fields, and that path was a fifth of the services'
//! CPU (docs/tuning.md); a `Vec` takes the bytes at full speed, and one
//! copy of the result is cheap beside it. The payload service keeps
//! `ProstCodec`: its one large `bytes` field is a single `put_slice`
//! there, and a `Vec` would only add a copy of it.

use std::marker::PhantomData;

use bytes::{Buf, BufMut};
use prost::Message;
use tonic::Status;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Encodes `T`, decodes `U`.
#[derive(Debug)]
pub struct RecordsCodec<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for RecordsCodec<T, U> {
    fn default() -> Self {
        RecordsCodec(PhantomData)
    }
}

impl<T, U> Codec for RecordsCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = VecEncoder<T>;
    type Decoder = BytesDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        VecEncoder(PhantomData)
    }

    fn decoder(&mut self) -> Self::Decoder {
        BytesDecoder(PhantomData)
    }
}

#[derive(Debug)]
pub struct VecEncoder<T>(PhantomData<T>);

impl<T: Message> Encoder for VecEncoder<T> {
    type Item = T;
    type Error = Status;

    fn encode(&mut self, item: T, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item.encode_to_vec());
        Ok(())
    }
}

/// Decodes from the frame's bytes taken whole (without a copy), so that
/// reading each field advances a `Bytes`, not the frame buffer.
#[derive(Debug)]
pub struct BytesDecoder<U>(PhantomData<U>);

impl<U: Message + Default> Decoder for BytesDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        let bytes = src.copy_to_bytes(src.remaining());
        U::decode(bytes)
            .map(Some)
            .map_err(|e| Status::internal(format!("malformed protobuf: {e}")))
    }
}
