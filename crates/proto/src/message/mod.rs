//! The `message` workload's contract: the built-in shapes
//! (`proto/shapes.proto`), the values they are filled with, and how a
//! message travels: protobuf (prost) or the canonical proto3 JSON mapping
//! (pbjson's serde impls: int64 as strings, bytes as base64, enum names,
//! lowerCamelCase names, RFC 3339 timestamps).
//!
//! Values come from a seeded ChaCha generator, so the server and the load
//! generator build the very same message from `--seed` and `--items`, and
//! the client can check every answer byte for byte. Repeated fields scale
//! with `--items`; no two values of a field are meant to be equal.

use std::fmt;
use std::str::FromStr;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::vocab::UnknownName;

pub mod compiled;
mod digest;
pub mod dynamic;
mod source;
mod timestamp;
mod values;

pub use source::{Loaded, MessageSource};
pub use timestamp::Timestamp;
use values::Values;

/// The generated types of `proto/shapes.proto`.
pub mod shapes {
    include!(concat!(env!("OUT_DIR"), "/wirebench.shapes.rs"));
    include!(concat!(env!("OUT_DIR"), "/wirebench.shapes.serde.rs"));
}

/// The message service's own types (`proto/message.proto`).
pub mod service {
    include!(concat!(env!("OUT_DIR"), "/wirebench.message.rs"));
    include!(concat!(env!("OUT_DIR"), "/wirebench.message.serde.rs"));
}

use service::Ack;
use shapes::{Binary, Order, Telemetry, Text, Tiny};

/// Encoded `FileDescriptorSet` of shapes.proto and message.proto (and the
/// well-known types they import).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/shapes_descriptors.bin"));

/// The gRPC service of the message workload.
pub const SERVICE: &str = "wirebench.message.MessageService";

/// The descriptors a server of `type_name` (`wirebench.shapes.Order`)
/// gives reflection: shapes.proto and message.proto, and the service as it
/// is served, `MessageService` with `Down(DownRequest) returns (M)`,
/// `Up(M) returns (Ack)` and `Echo(M) returns (M)`. Encoded.
pub fn service_descriptors(files: &[u8], type_name: &str) -> Vec<u8> {
    let methods: Vec<(String, Direction, &str)> = Direction::ALL
        .into_iter()
        .map(|d| (capitalized(d.name()), d, type_name))
        .collect();
    descriptors_with_service(&[files], "wirebench.message", "MessageService", &methods)
}

/// A mix's service, `wirebench.mix.Mix` (see [`MIX_SERVICE`]): one method
/// per call, named after it, over that call's type; `files` holds the
/// descriptors of every type.
pub fn mix_descriptors(files: &[&[u8]], calls: &[(String, Direction, &str)]) -> Vec<u8> {
    descriptors_with_service(files, "wirebench.mix", "Mix", calls)
}

/// The gRPC service of a mix: a method per call.
pub const MIX_SERVICE: &str = "wirebench.mix.Mix";

/// The gRPC path of a mix's call `name`.
pub fn mix_grpc_path(name: &str) -> String {
    format!("/{MIX_SERVICE}/{name}")
}

/// The REST route of a mix's call `name`: GET for down, POST otherwise.
pub fn mix_rest_path(name: &str) -> String {
    format!("/mix/{name}")
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// The union of `files` (each an encoded descriptor set), our message.proto
/// (DownRequest, Ack) where none of them has it, and a service
/// `package.service` whose methods are (name, direction, type served).
fn descriptors_with_service(
    files: &[&[u8]],
    package: &str,
    service: &str,
    methods: &[(String, Direction, &str)],
) -> Vec<u8> {
    use prost::Message;
    use prost_types::{
        FileDescriptorProto, FileDescriptorSet, MethodDescriptorProto, ServiceDescriptorProto,
    };
    let mut set = FileDescriptorSet::default();
    for encoded in files {
        for file in FileDescriptorSet::decode(*encoded).unwrap_or_default().file {
            if !set.file.iter().any(|f| f.name == file.name) {
                set.file.push(file);
            }
        }
    }
    let ours = |set: &FileDescriptorSet| {
        set.file.iter().any(|f| {
            f.package() == "wirebench.message" && f.message_type.iter().any(|m| m.name() == "Ack")
        })
    };
    if !ours(&set) {
        // The user's files, and ours under a name theirs cannot take.
        let mut message = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET)
            .expect("built by build.rs")
            .file
            .into_iter()
            .find(|f| f.name() == "message.proto")
            .expect("message.proto is built in");
        message.name = Some("wirebench/message.proto".to_owned());
        set.file.push(message);
    }
    let method = |(name, direction, type_name): &(String, Direction, &str)| {
        let served = format!(".{type_name}");
        let (input, output) = match direction {
            Direction::Down => (".wirebench.message.DownRequest".to_owned(), served),
            Direction::Up => (served, ".wirebench.message.Ack".to_owned()),
            Direction::Echo => (served.clone(), served),
        };
        MethodDescriptorProto {
            name: Some(name.clone()),
            input_type: Some(input),
            output_type: Some(output),
            ..Default::default()
        }
    };
    set.file.push(FileDescriptorProto {
        name: Some(format!(
            "wirebench/{}_service.proto",
            package.rsplit('.').next().unwrap_or(package)
        )),
        package: Some(package.to_owned()),
        dependency: set.file.iter().filter_map(|f| f.name.clone()).collect(),
        service: vec![ServiceDescriptorProto {
            name: Some(service.to_owned()),
            method: methods.iter().map(method).collect(),
            ..Default::default()
        }],
        syntax: Some("proto3".to_owned()),
        ..Default::default()
    });
    set.encode_to_vec()
}

/// How a body is encoded: a word of the vocabulary.
pub use crate::vocab::Encoding;

/// Which way the message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// A small request, the message as the answer (seed 000's pattern).
    Down,
    /// The message as the request, an [`Ack`] as the answer.
    Up,
    /// The message both ways.
    Echo,
}

impl Direction {
    pub const ALL: [Direction; 3] = [Direction::Down, Direction::Up, Direction::Echo];

    pub fn name(self) -> &'static str {
        match self {
            Direction::Down => "down",
            Direction::Up => "up",
            Direction::Echo => "echo",
        }
    }

    /// The gRPC method, `/wirebench.message.MessageService/Down`.
    pub fn grpc_path(self) -> &'static str {
        match self {
            Direction::Down => "/wirebench.message.MessageService/Down",
            Direction::Up => "/wirebench.message.MessageService/Up",
            Direction::Echo => "/wirebench.message.MessageService/Echo",
        }
    }

    /// The byte that names the direction in a tcp request frame.
    pub fn tcp_tag(self) -> u8 {
        match self {
            Direction::Down => b'D',
            Direction::Up => b'U',
            Direction::Echo => b'E',
        }
    }

    pub fn from_tcp_tag(tag: u8) -> Option<Direction> {
        Direction::ALL.into_iter().find(|d| d.tcp_tag() == tag)
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Direction {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Direction::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| UnknownName {
                what: "direction",
                got: s.to_owned(),
                expected: "down, up, echo".to_owned(),
            })
    }
}

/// A built-in message shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// A handful of scalars, about 100 bytes.
    Tiny,
    /// An e-commerce order: ids, money, nested customer and address, line
    /// items, an enum status, a timestamp.
    Order,
    /// A metrics batch: series of (int64, double) points with string
    /// labels.
    Telemetry,
    /// Documents of long UTF-8 text, non-ASCII and characters JSON escapes.
    Text,
    /// Blobs of random bytes (base64 in JSON).
    Binary,
}

impl Shape {
    pub const ALL: [Shape; 5] = [
        Shape::Tiny,
        Shape::Order,
        Shape::Telemetry,
        Shape::Text,
        Shape::Binary,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Tiny => "tiny",
            Shape::Order => "order",
            Shape::Telemetry => "telemetry",
            Shape::Text => "text",
            Shape::Binary => "binary",
        }
    }

    /// `--items` when none is given: a realistic size for each shape
    /// (an order of 10 lines is about 1 KiB; 4 documents about 8 KiB).
    pub fn default_items(self) -> u32 {
        match self {
            Shape::Tiny => 1,
            Shape::Order => 10,
            Shape::Telemetry => 60,
            Shape::Text => 4,
            Shape::Binary => 4,
        }
    }

    /// The protobuf type, `wirebench.shapes.Order`.
    pub fn type_name(self) -> &'static str {
        match self {
            Shape::Tiny => "wirebench.shapes.Tiny",
            Shape::Order => "wirebench.shapes.Order",
            Shape::Telemetry => "wirebench.shapes.Telemetry",
            Shape::Text => "wirebench.shapes.Text",
            Shape::Binary => "wirebench.shapes.Binary",
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Shape {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Shape::ALL
            .into_iter()
            .find(|shape| shape.name() == s)
            .ok_or_else(|| UnknownName {
                what: "shape",
                got: s.to_owned(),
                expected: "tiny, order, telemetry, text, binary".to_owned(),
            })
    }
}

/// What a message needs to travel in both encodings.
pub trait WireMessage:
    prost::Message + Default + Serialize + DeserializeOwned + Send + Sync + 'static
{
}
impl<T: prost::Message + Default + Serialize + DeserializeOwned + Send + Sync + 'static> WireMessage
    for T
{
}

/// `message` in `encoding`.
pub fn encode<M: WireMessage>(message: &M, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Protobuf => message.encode_to_vec(),
        Encoding::Json => crate::json::to_vec(message).expect("pbjson messages serialize"),
    }
}

/// A message from `bytes` in `encoding`; the error says why not.
pub fn decode<M: WireMessage>(bytes: &[u8], encoding: Encoding) -> Result<M, String> {
    match encoding {
        Encoding::Protobuf => M::decode(bytes).map_err(|err| format!("malformed protobuf: {err}")),
        Encoding::Json => {
            crate::json::from_slice(bytes).map_err(|err| format!("malformed JSON: {err}"))
        }
    }
}

/// The `Down` request for message `index` (of a server's several), in
/// `encoding`: empty (protobuf) or `{}` (JSON) for the first.
pub fn down_request(index: u64, encoding: Encoding) -> Vec<u8> {
    encode(&service::DownRequest { index }, encoding)
}

/// Which message a `Down` request in `encoding` asks for; an empty body
/// asks for the first.
pub fn down_index(body: &[u8], encoding: Encoding) -> Result<u64, String> {
    if body.is_empty() {
        return Ok(0);
    }
    decode::<service::DownRequest>(body, encoding).map(|request| request.index)
}

/// What `Up` answers for `message`: the FNV-1a 64 of its protobuf
/// encoding, and that encoding's length. A server that decoded the
/// request and encodes it again gets the client's digest only if it read
/// every field.
pub fn ack_of(message: &impl prost::Message) -> Ack {
    let bytes = message.encode_to_vec();
    Ack {
        digest: fnv1a64(&bytes),
        message_bytes: bytes.len() as u64,
    }
}

pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash = digest::Fnv::new();
    hash.write(bytes);
    hash.finish()
}

/// One built-in message, filled.
#[derive(Debug, Clone, PartialEq)]
pub enum ShapeMessage {
    Tiny(Tiny),
    Order(Order),
    Telemetry(Telemetry),
    Text(Text),
    Binary(Binary),
}

/// A message encoded every way the contract needs it: what the client
/// sends and what a correct server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub message: Vec<u8>,
    pub ack: Vec<u8>,
}

impl ShapeMessage {
    /// `shape` with `items` in its repeated fields, from `seed`.
    pub fn generate(shape: Shape, seed: u64, items: u32) -> ShapeMessage {
        let mut g = Values(ChaCha8Rng::seed_from_u64(seed));
        let items = items as usize;
        match shape {
            Shape::Tiny => ShapeMessage::Tiny(g.tiny()),
            Shape::Order => ShapeMessage::Order(g.order(items)),
            Shape::Telemetry => ShapeMessage::Telemetry(g.telemetry(items)),
            Shape::Text => ShapeMessage::Text(g.text(items)),
            Shape::Binary => ShapeMessage::Binary(g.binary(items)),
        }
    }

    pub fn shape(&self) -> Shape {
        match self {
            ShapeMessage::Tiny(_) => Shape::Tiny,
            ShapeMessage::Order(_) => Shape::Order,
            ShapeMessage::Telemetry(_) => Shape::Telemetry,
            ShapeMessage::Text(_) => Shape::Text,
            ShapeMessage::Binary(_) => Shape::Binary,
        }
    }

    /// The message and its ack, in `encoding`.
    pub fn encoded(&self, encoding: Encoding) -> Encoded {
        fn both<M: WireMessage>(message: &M, encoding: Encoding) -> Encoded {
            Encoded {
                message: encode(message, encoding),
                ack: encode(&ack_of(message), encoding),
            }
        }
        match self {
            ShapeMessage::Tiny(m) => both(m, encoding),
            ShapeMessage::Order(m) => both(m, encoding),
            ShapeMessage::Telemetry(m) => both(m, encoding),
            ShapeMessage::Text(m) => both(m, encoding),
            ShapeMessage::Binary(m) => both(m, encoding),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_message_and_another_seed_another() {
        for shape in Shape::ALL {
            let a = ShapeMessage::generate(shape, 7, shape.default_items());
            assert_eq!(a, ShapeMessage::generate(shape, 7, shape.default_items()));
            assert_ne!(a, ShapeMessage::generate(shape, 8, shape.default_items()));
        }
    }

    #[test]
    fn json_is_the_canonical_mapping_and_round_trips_exactly() {
        let ShapeMessage::Order(order) = ShapeMessage::generate(Shape::Order, 1, 3) else {
            unreachable!()
        };
        let json = encode(&order, Encoding::Json);
        let text = String::from_utf8(json.clone()).unwrap();
        // int64 as strings, lowerCamelCase, enum names, RFC 3339.
        assert!(
            text.contains(&format!("\"orderId\":\"{}\"", order.order_id)),
            "{text}"
        );
        assert!(text.contains("\"lineItems\":["), "{text}");
        assert!(text.contains("\"status\":\"ORDER_STATUS_"), "{text}");
        assert!(text.contains("\"createdAt\":\"20"), "{text}");
        let back: Order = decode(&json, Encoding::Json).unwrap();
        assert_eq!(back, order);
        assert_eq!(encode(&back, Encoding::Json), json, "stable re-encoding");
        let ShapeMessage::Binary(binary) = ShapeMessage::generate(Shape::Binary, 1, 1) else {
            unreachable!()
        };
        let text = String::from_utf8(encode(&binary, Encoding::Json)).unwrap();
        assert!(
            text.contains("\"data\":\""),
            "bytes as base64: {}",
            &text[..80]
        );
    }

    #[test]
    fn sizes_scale_with_items_and_the_ack_proves_the_content() {
        let small = ShapeMessage::generate(Shape::Order, 1, 1).encoded(Encoding::Protobuf);
        let large = ShapeMessage::generate(Shape::Order, 1, 100).encoded(Encoding::Protobuf);
        assert!(large.message.len() > 50 * small.message.len() / 2);
        let tiny = ShapeMessage::generate(Shape::Tiny, 1, 1).encoded(Encoding::Protobuf);
        assert!(
            (60..200).contains(&tiny.message.len()),
            "{}",
            tiny.message.len()
        );
        let other = ShapeMessage::generate(Shape::Order, 2, 1).encoded(Encoding::Protobuf);
        assert_ne!(small.ack, other.ack);
    }

    #[test]
    fn reflection_sees_the_service_with_the_served_type() {
        let pool = prost_reflect::DescriptorPool::decode(
            service_descriptors(FILE_DESCRIPTOR_SET, "wirebench.shapes.Order").as_slice(),
        )
        .unwrap();
        let service = pool.get_service_by_name(SERVICE).unwrap();
        let echo = service.methods().find(|m| m.name() == "Echo").unwrap();
        assert_eq!(echo.input().full_name(), "wirebench.shapes.Order");
        let up = service.methods().find(|m| m.name() == "Up").unwrap();
        assert_eq!(up.output().full_name(), "wirebench.message.Ack");
    }
}
