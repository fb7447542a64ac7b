//! The user's own message (`--proto FILE --message pkg.Msg`), and the
//! built-in shapes run through reflection (`--dynamic`): prost-reflect's
//! `DynamicMessage`, whose JSON is the same canonical proto3 mapping.
//!
//! A dynamic message keeps its map fields in a hash map, so its encoding
//! is not the same from one call to the next. Its Ack digest is therefore
//! [`digest`](super::digest::digest), a hash of its fields that does not depend on the order of a
//! map's entries, and clients check its answers by that digest when the
//! bytes differ, not byte for byte.

use std::path::{Path, PathBuf};

use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, Kind, MapKey, MessageDescriptor, Value};

pub use super::digest::{ack_of, digest};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{Encoding, Shape, ShapeMessage};

/// Why a schema, a message name or a data file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{file} does not compile: {why}")]
    Compile { file: String, why: String },
    #[error("no message {name} in {file}; it declares: {known}")]
    UnknownMessage {
        name: String,
        file: String,
        known: String,
    },
    #[error("cannot read {path}: {why}")]
    Read { path: String, why: String },
    #[error("{path}:{line}: not a {message}: {why}")]
    Data {
        path: String,
        line: usize,
        message: String,
        why: String,
    },
    #[error("{path} holds no message (one JSON object, or JSON Lines)")]
    EmptyData { path: String },
    #[error(transparent)]
    Codegen(#[from] super::compiled::CodegenError),
}

/// A message type and the descriptors that define it.
#[derive(Debug, Clone)]
pub struct Schema {
    pub message: MessageDescriptor,
    /// Every file the type needs, encoded: what reflection serves.
    pub files: Vec<u8>,
}

impl Schema {
    /// `message` (`pkg.Msg`) of `proto`, compiled with protox (no protoc);
    /// imports are looked up in `include` (default: the file's folder).
    pub fn compile(
        proto: &Path,
        include: &[PathBuf],
        message: &str,
    ) -> Result<Schema, SchemaError> {
        let file = proto.display().to_string();
        let compile_error = |why: String| SchemaError::Compile {
            file: file.clone(),
            why,
        };
        let mut include = include.to_vec();
        if include.is_empty() {
            include.push(proto.parent().map(Path::to_path_buf).unwrap_or_default());
        }
        let mut compiler =
            protox::Compiler::new(&include).map_err(|e| compile_error(report(&e)))?;
        compiler.include_imports(true);
        compiler
            .open_file(proto)
            .map_err(|e| compile_error(report(&e)))?;
        let files = compiler.file_descriptor_set().encode_to_vec();
        let pool =
            DescriptorPool::decode(files.as_slice()).map_err(|e| compile_error(e.to_string()))?;
        let message = pool
            .get_message_by_name(message.trim_start_matches('.'))
            .ok_or_else(|| SchemaError::UnknownMessage {
                name: message.to_owned(),
                file: file.clone(),
                known: pool
                    .all_messages()
                    .filter(|m| !m.is_map_entry())
                    .map(|m| m.full_name().to_owned())
                    .filter(|name| !name.starts_with("google.protobuf."))
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        Ok(Schema { message, files })
    }

    /// A built-in shape's type, from the descriptors built in.
    pub fn builtin(shape: Shape) -> Schema {
        let pool = DescriptorPool::decode(super::FILE_DESCRIPTOR_SET).expect("built by build.rs");
        Schema {
            message: pool
                .get_message_by_name(shape.type_name())
                .expect("shapes.proto declares every shape"),
            files: super::FILE_DESCRIPTOR_SET.to_vec(),
        }
    }
}

/// A compiler error with its place: "s.proto:2:25: expected ';'".
fn report(err: &protox::Error) -> String {
    use miette::Diagnostic;
    let place = || {
        let label = err.labels()?.next()?;
        let contents = err.source_code()?.read_span(label.inner(), 0, 0).ok()?;
        let file = contents.name().or(err.file())?.to_owned();
        Some(format!(
            "{file}:{}:{}: ",
            contents.line() + 1,
            contents.column() + 1
        ))
    };
    format!("{}{err}", place().unwrap_or_default())
}

/// The built-in `shape`'s message as a dynamic message: the very message
/// the generated types carry, so `--dynamic` measures reflection alone.
pub fn builtin_message(shape: Shape, seed: u64, items: u32) -> DynamicMessage {
    let bytes = ShapeMessage::generate(shape, seed, items)
        .encoded(Encoding::Protobuf)
        .message;
    DynamicMessage::decode(Schema::builtin(shape).message, bytes.as_slice())
        .expect("a generated message decodes")
}

/// `message` with values from `seed`: every field set (one field of each
/// oneof), `items` entries in top-level repeated and map fields (2 below),
/// strings and bytes of `string_bytes`, nested messages 4 deep at most.
pub fn generate(
    message: &MessageDescriptor,
    seed: u64,
    items: u32,
    string_bytes: usize,
) -> DynamicMessage {
    let mut g = Filler {
        rng: ChaCha8Rng::seed_from_u64(seed),
        items: items as usize,
        string_bytes,
    };
    g.message(message, 0)
}

struct Filler {
    rng: ChaCha8Rng,
    items: usize,
    string_bytes: usize,
}

const MAX_DEPTH: usize = 4;

impl Filler {
    fn message(&mut self, descriptor: &MessageDescriptor, depth: usize) -> DynamicMessage {
        let mut message = DynamicMessage::new(descriptor.clone());
        match descriptor.full_name() {
            // Values JSON can carry: 0001..9999 for a timestamp, under
            // 10,000 years for a duration, nanos of the right sign.
            "google.protobuf.Timestamp" | "google.protobuf.Duration" => {
                let seconds = self.rng.random_range(1_577_836_800..1_893_456_000i64);
                message.set_field_by_name("seconds", Value::I64(seconds));
                let nanos = self.rng.random_range(0..1_000_000_000i32);
                message.set_field_by_name("nanos", Value::I32(nanos));
                return message;
            }
            _ => {}
        }
        if depth >= MAX_DEPTH {
            return message;
        }
        let chosen: Vec<_> = descriptor
            .oneofs()
            .filter(|oneof| !oneof.is_synthetic())
            .map(|oneof| {
                let fields: Vec<_> = oneof.fields().collect();
                fields[self.rng.random_range(0..fields.len())].number()
            })
            .collect();
        let count = if depth == 0 { self.items } else { 2 };
        for field in descriptor.fields() {
            if let Some(oneof) = field.containing_oneof()
                && !oneof.is_synthetic()
                && !chosen.contains(&field.number())
            {
                continue;
            }
            let value = if field.is_map() {
                let Kind::Message(entry) = field.kind() else {
                    unreachable!("a map's entries are messages")
                };
                let key = entry.map_entry_key_field().kind();
                let value = entry.map_entry_value_field().kind();
                Value::Map(
                    (0..count)
                        .map(|i| (self.key(&key, i), self.value(&value, depth)))
                        .collect(),
                )
            } else if field.is_list() {
                Value::List(
                    (0..count)
                        .map(|_| self.value(&field.kind(), depth))
                        .collect(),
                )
            } else {
                self.value(&field.kind(), depth)
            };
            message.set_field(&field, value);
        }
        message
    }

    fn key(&mut self, kind: &Kind, i: usize) -> MapKey {
        match kind {
            Kind::String => MapKey::String(format!("key-{i}-{:x}", self.rng.random::<u32>())),
            Kind::Bool => MapKey::Bool(i % 2 == 1),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => MapKey::I32(i as i32),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => MapKey::I64(i as i64),
            Kind::Uint32 | Kind::Fixed32 => MapKey::U32(i as u32),
            _ => MapKey::U64(i as u64),
        }
    }

    fn value(&mut self, kind: &Kind, depth: usize) -> Value {
        let r = &mut self.rng;
        match kind {
            Kind::Double => Value::F64(r.random::<f64>() * 1e6),
            Kind::Float => Value::F32(r.random::<f32>() * 1e3),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(r.random()),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(r.random()),
            Kind::Uint32 | Kind::Fixed32 => Value::U32(r.random()),
            Kind::Uint64 | Kind::Fixed64 => Value::U64(r.random()),
            Kind::Bool => Value::Bool(r.random()),
            Kind::String => Value::String(super::values::words(r, self.string_bytes)),
            Kind::Bytes => {
                let mut bytes = vec![0u8; self.string_bytes];
                r.fill(&mut bytes[..]);
                Value::Bytes(bytes.into())
            }
            Kind::Enum(e) => {
                let values: Vec<i32> = e.values().map(|v| v.number()).collect();
                Value::EnumNumber(values[r.random_range(0..values.len())])
            }
            Kind::Message(m) => Value::Message(self.message(m, depth + 1)),
        }
    }
}

/// The messages of a data file: one JSON object, or JSON Lines (blank
/// lines skipped), each in the canonical proto3 JSON mapping.
pub fn read_data(
    message: &MessageDescriptor,
    path: &Path,
) -> Result<Vec<DynamicMessage>, SchemaError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| SchemaError::Read {
        path: shown.clone(),
        why: err.to_string(),
    })?;
    let parse = |json: &str, line: usize| {
        let mut de = serde_json::Deserializer::from_str(json);
        // The path tells which field did not fit ("lines[0].qty").
        let mut track = serde_path_to_error::Track::new();
        let tracked = serde_path_to_error::Deserializer::new(&mut de, &mut track);
        DynamicMessage::deserialize(message.clone(), tracked)
            .and_then(|m| de.end().map(|()| m))
            .map_err(|err| SchemaError::Data {
                path: shown.clone(),
                line,
                message: message.full_name().to_owned(),
                // serde counts lines within the one being parsed.
                why: format!(
                    "field {}: {}",
                    track.path(),
                    err.to_string().replace(" at line 1 column ", " at column ")
                ),
            })
    };
    // One object over many lines, or one object a line.
    let whole = text.trim();
    let messages = if whole.starts_with('{') && !whole.contains("}\n") && !whole.contains("}\r\n") {
        vec![parse(whole, 1)?]
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(i, line)| parse(line, i + 1))
            .collect::<Result<Vec<_>, _>>()?
    };
    if messages.is_empty() {
        return Err(SchemaError::EmptyData { path: shown });
    }
    Ok(messages)
}

/// `message` in `encoding`.
pub fn encode(message: &DynamicMessage, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => message.encode_to_vec(),
        Encoding::Json => crate::json::to_vec(message).expect("dynamic messages serialize"),
    }
}

/// A `descriptor` message from `bytes` in `encoding`.
pub fn decode(
    descriptor: &MessageDescriptor,
    bytes: &[u8],
    encoding: Encoding,
) -> Result<DynamicMessage, String> {
    match encoding {
        Encoding::Protobuf => DynamicMessage::decode(descriptor.clone(), bytes)
            .map_err(|err| format!("malformed protobuf: {err}")),
        Encoding::Json => crate::json::from_slice_seed(bytes, descriptor.clone())
            .map_err(|err| format!("malformed JSON: {err}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"
syntax = "proto3";
package t;
import "google/protobuf/timestamp.proto";
enum Kind { KIND_UNSPECIFIED = 0; A = 1; B = 2; }
message Inner { string name = 1; repeated int64 ids = 2; }
message Y {
  int64 id = 1;
  Inner inner = 2;
  Kind kind = 3;
  map<string, Inner> by_name = 4;
  oneof choice { string text = 5; bytes blob = 6; }
  repeated double values = 7;
  google.protobuf.Timestamp at = 8;
}
"#;

    fn schema(dir: &tempfile::TempDir) -> Schema {
        let file = dir.path().join("s.proto");
        std::fs::write(&file, SCHEMA).unwrap();
        Schema::compile(&file, &[], "t.Y").unwrap()
    }

    #[test]
    fn a_user_schema_compiles_and_its_messages_round_trip_in_both_encodings() {
        let dir = tempfile::tempdir().unwrap();
        let schema = schema(&dir);
        let message = generate(&schema.message, 5, 3, 16);
        assert_eq!(message, generate(&schema.message, 5, 3, 16));
        for encoding in [Encoding::Protobuf, Encoding::Json] {
            let back = decode(&schema.message, &encode(&message, encoding), encoding).unwrap();
            assert_eq!(digest(&back), digest(&message), "{encoding:?}");
            assert_eq!(ack_of(&back), ack_of(&message));
        }
        assert_ne!(
            digest(&message),
            digest(&generate(&schema.message, 6, 3, 16))
        );
        let json = String::from_utf8(encode(&message, Encoding::Json)).unwrap();
        assert!(json.contains("\"byName\""), "{json}");
        assert!(json.contains("\"at\":\"20"), "{json}");
    }

    #[test]
    fn bad_schemas_names_and_data_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let schema = schema(&dir);
        let broken = dir.path().join("broken.proto");
        std::fs::write(&broken, "syntax = \"proto3\";\nmessage X { int32 a = 1 }\n").unwrap();
        let err = Schema::compile(&broken, &[], "X").unwrap_err().to_string();
        assert!(err.contains("broken.proto"), "{err}");
        let file = dir.path().join("s.proto");
        let err = Schema::compile(&file, &[], "t.Nope")
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.Y") && err.contains("t.Inner"), "{err}");
        let data = dir.path().join("d.jsonl");
        std::fs::write(&data, "{\"id\": \"7\"}\n\n{\"id\": \"x\"}\n").unwrap();
        let err = read_data(&schema.message, &data).unwrap_err().to_string();
        assert!(
            err.contains("d.jsonl:3") && err.contains("field id"),
            "{err}"
        );
        std::fs::write(&data, "\n").unwrap();
        assert!(matches!(
            read_data(&schema.message, &data),
            Err(SchemaError::EmptyData { .. })
        ));
        std::fs::write(
            &data,
            "{\"id\": \"7\", \"kind\": \"B\"}\n{\"text\": \"é\"}\n",
        )
        .unwrap();
        assert_eq!(read_data(&schema.message, &data).unwrap().len(), 2);
    }

    #[test]
    fn a_builtin_shape_is_the_same_message_through_reflection() {
        let dynamic = builtin_message(Shape::Telemetry, 3, 5);
        let generated = ShapeMessage::generate(Shape::Telemetry, 3, 5).encoded(Encoding::Json);
        let a: serde_json::Value = serde_json::from_slice(&generated.message).unwrap();
        let b: serde_json::Value =
            serde_json::from_slice(&encode(&dynamic, Encoding::Json)).unwrap();
        assert_eq!(a, b);
    }
}
