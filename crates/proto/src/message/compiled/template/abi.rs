//! The narrow C ABI wirebench loads this library through (written by
//! wirebench's `message::compiled`; not compiled as part of wirebench). A
//! handle holds the served messages as the schema's generated types; each
//! call decodes and encodes with prost and pbjson, exactly as wirebench's
//! built-in shapes do, and hands its answer back in a buffer the caller
//! copies and returns with `wirebench_schema_free`.

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use prost::Message;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::json::Codec;

/// Bumped whenever a signature below changes.
const ABI: u32 = 1;

const PROTOBUF: u32 = 0;

/// Bytes handed over the boundary: borrowed from the caller (`Slice`) or
/// owned by this library until `wirebench_schema_free` (`Owned`).
#[repr(C)]
pub struct Slice {
    ptr: *const u8,
    len: usize,
}

#[repr(C)]
pub struct Owned {
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

impl Owned {
    fn from_vec(bytes: Vec<u8>) -> Owned {
        let mut bytes = std::mem::ManuallyDrop::new(bytes);
        Owned {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
            cap: bytes.capacity(),
        }
    }
}

unsafe fn slice<'a>(s: *const u8, len: usize) -> &'a [u8] {
    if len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(s, len) } }
}

/// The served messages, whatever their type.
pub trait Serve: Send + Sync {
    fn down(&self, index: u64, protobuf: bool, codec: Codec) -> Result<Vec<u8>, String>;
    /// The decoded message's protobuf encoding: its FNV-1a 64 and length.
    fn up(&self, body: &[u8], protobuf: bool, codec: Codec) -> Result<[u64; 2], String>;
    fn echo(&self, body: &[u8], protobuf: bool, codec: Codec) -> Result<Vec<u8>, String>;
}

pub struct Typed<M>(Vec<M>);

/// The messages given in protobuf, as `M`.
pub fn typed<M>(messages: &[&[u8]]) -> Result<Box<dyn Serve>, String>
where
    M: Message + Default + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    let messages = messages
        .iter()
        .map(|bytes| M::decode(*bytes).map_err(|err| format!("malformed protobuf: {err}")))
        .collect::<Result<Vec<M>, String>>()?;
    Ok(Box::new(Typed(messages)))
}

// The same calls as wirebench's `message::encode` and `message::decode`.
fn encode<M: Message + Serialize>(message: &M, protobuf: bool, codec: Codec) -> Result<Vec<u8>, String> {
    if protobuf {
        return Ok(message.encode_to_vec());
    }
    let mut out = Vec::new();
    codec.to_writer(&mut out, message)?;
    Ok(out)
}

fn decode<M: Message + Default + DeserializeOwned>(body: &[u8], protobuf: bool, codec: Codec) -> Result<M, String> {
    if protobuf {
        M::decode(body).map_err(|err| format!("malformed protobuf: {err}"))
    } else {
        codec.from_slice(body).map_err(|err| format!("malformed JSON: {err}"))
    }
}

impl<M> Serve for Typed<M>
where
    M: Message + Default + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn down(&self, index: u64, protobuf: bool, codec: Codec) -> Result<Vec<u8>, String> {
        encode(&self.0[(index % self.0.len() as u64) as usize], protobuf, codec)
    }

    fn up(&self, body: &[u8], protobuf: bool, codec: Codec) -> Result<[u64; 2], String> {
        let decoded: M = decode(body, protobuf, codec)?;
        let bytes = decoded.encode_to_vec();
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for &byte in &bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        Ok([hash, bytes.len() as u64])
    }

    fn echo(&self, body: &[u8], protobuf: bool, codec: Codec) -> Result<Vec<u8>, String> {
        let decoded: M = decode(body, protobuf, codec)?;
        encode(&decoded, protobuf, codec)
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn wirebench_schema_abi() -> u32 {
    ABI
}

/// The messages (`count` protobuf encodings) of `type_name`, or null with
/// the reason in `error`.
///
/// # Safety
/// Every pointer is valid for its length; `error` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wirebench_schema_open(
    type_name: Slice,
    messages: *const Slice,
    count: usize,
    error: *mut Owned,
) -> *mut c_void {
    let opened = catch_unwind(AssertUnwindSafe(|| {
        let name = std::str::from_utf8(unsafe { slice(type_name.ptr, type_name.len) })
            .map_err(|err| err.to_string())?;
        let messages: Vec<&[u8]> = (0..count)
            .map(|i| {
                let s = unsafe { &*messages.add(i) };
                unsafe { slice(s.ptr, s.len) }
            })
            .collect();
        if messages.is_empty() {
            return Err("no message to serve".to_owned());
        }
        crate::served(name, &messages)
    }))
    .unwrap_or_else(|_| Err("the schema library panicked".to_owned()));
    match opened {
        Ok(serve) => Box::into_raw(Box::new(serve)).cast(),
        Err(why) => {
            unsafe { error.write(Owned::from_vec(why.into_bytes())) };
            std::ptr::null_mut()
        }
    }
}

/// # Safety
/// `handle` came from `wirebench_schema_open` and is closed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wirebench_schema_close(handle: *mut c_void) {
    drop(unsafe { Box::from_raw(handle.cast::<Box<dyn Serve>>()) });
}

/// One call: `op` 0 down (message `index`), 1 up (`body`; `ack` gets the
/// digest and length), 2 echo (`body`). `encoding` 0 protobuf, 1 JSON
/// with `codec` (0 serde_json, 1 sonic-rs). Returns 0 with the answer in
/// `out`, or 1 with the reason in `out`.
///
/// # Safety
/// `handle` is open; `body` is valid for its length; `out` and `ack` are
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wirebench_schema_call(
    handle: *const c_void,
    op: u32,
    index: u64,
    body: Slice,
    encoding: u32,
    codec: u32,
    out: *mut Owned,
    ack: *mut u64,
) -> u32 {
    let serve = unsafe { &*handle.cast::<Box<dyn Serve>>() };
    let protobuf = encoding == PROTOBUF;
    let codec = if codec == 0 { Codec::SerdeJson } else { Codec::SonicRs };
    let result = catch_unwind(AssertUnwindSafe(|| {
        let body = unsafe { slice(body.ptr, body.len) };
        match op {
            0 => serve.down(index, protobuf, codec),
            1 => serve.up(body, protobuf, codec).map(|[digest, len]| {
                unsafe {
                    ack.write(digest);
                    ack.add(1).write(len);
                }
                Vec::new()
            }),
            2 => serve.echo(body, protobuf, codec),
            _ => Err(format!("no operation {op}")),
        }
    }))
    .unwrap_or_else(|_| Err("the schema library panicked".to_owned()));
    let (status, bytes) = match result {
        Ok(bytes) => (0, bytes),
        Err(why) => (1, why.into_bytes()),
    };
    unsafe { out.write(Owned::from_vec(bytes)) };
    status
}

/// # Safety
/// `bytes` came from this library and is freed once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wirebench_schema_free(bytes: Owned) {
    drop(unsafe { Vec::from_raw_parts(bytes.ptr, bytes.len, bytes.cap) });
}
