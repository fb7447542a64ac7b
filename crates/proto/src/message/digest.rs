//! The digests an `Ack` carries: FNV-1a 64, over a generated message's
//! protobuf encoding (`super::ack_of`), or over a dynamic message's fields
//! with its maps in any order ([`digest`]).

use prost::Message;
use prost_reflect::{DynamicMessage, MapKey, Value};

use super::service::Ack;

/// A hash of every field the message has set (field numbers and values,
/// nested messages included), in field order, with a map's entries
/// combined so that their order does not count: two messages equal in
/// meaning have the same digest, however their maps were encoded. Cheap:
/// no allocation, one pass.
pub fn digest(message: &DynamicMessage) -> u64 {
    let mut hash = Fnv::new();
    for (field, value) in message.fields() {
        hash.write(&field.number().to_le_bytes());
        hash.value(value);
    }
    hash.0
}

/// What `Up` answers for a dynamic message: its [`digest`], and the
/// length of its protobuf encoding.
pub fn ack_of(message: &DynamicMessage) -> Ack {
    Ack {
        digest: digest(message),
        message_bytes: message.encoded_len() as u64,
    }
}

/// FNV-1a 64, written to piece by piece.
pub(super) struct Fnv(u64);

impl Fnv {
    pub(super) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub(super) fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    pub(super) fn finish(&self) -> u64 {
        self.0
    }

    fn value(&mut self, value: &Value) {
        match value {
            Value::Bool(v) => self.write(&[u8::from(*v)]),
            Value::I32(v) | Value::EnumNumber(v) => self.write(&v.to_le_bytes()),
            Value::I64(v) => self.write(&v.to_le_bytes()),
            Value::U32(v) => self.write(&v.to_le_bytes()),
            Value::U64(v) => self.write(&v.to_le_bytes()),
            Value::F32(v) => self.write(&v.to_bits().to_le_bytes()),
            Value::F64(v) => self.write(&v.to_bits().to_le_bytes()),
            Value::String(v) => {
                self.write(&(v.len() as u64).to_le_bytes());
                self.write(v.as_bytes());
            }
            Value::Bytes(v) => {
                self.write(&(v.len() as u64).to_le_bytes());
                self.write(v);
            }
            Value::Message(m) => self.write(&digest(m).to_le_bytes()),
            Value::List(items) => {
                self.write(&(items.len() as u64).to_le_bytes());
                for item in items {
                    self.value(item);
                }
            }
            Value::Map(entries) => {
                // A sum does not depend on the order of its terms.
                let sum = entries.iter().fold(0u64, |sum, (key, value)| {
                    let mut entry = Fnv::new();
                    entry.key(key);
                    entry.value(value);
                    sum.wrapping_add(entry.0)
                });
                self.write(&(entries.len() as u64).to_le_bytes());
                self.write(&sum.to_le_bytes());
            }
        }
    }

    fn key(&mut self, key: &MapKey) {
        match key {
            MapKey::Bool(v) => self.write(&[u8::from(*v)]),
            MapKey::I32(v) => self.write(&v.to_le_bytes()),
            MapKey::I64(v) => self.write(&v.to_le_bytes()),
            MapKey::U32(v) => self.write(&v.to_le_bytes()),
            MapKey::U64(v) => self.write(&v.to_le_bytes()),
            MapKey::String(v) => self.write(v.as_bytes()),
        }
    }
}
