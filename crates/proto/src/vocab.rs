//! The shared vocabulary: what a request does (`Workload`) and how it
//! travels (`Stack`). Every crate names these the same way, and the names
//! are stable: they appear on the command line and in result files.
//!
//! A stack's behaviour lives here, in one row per stack ([`StackKind`]'s
//! `traits`): its family, its HTTP version, its body encoding, its media
//! type, its port, what its wire is. The crates ask these questions rather
//! than matching on stack names, so a new stack in an existing family is a
//! row here and nothing else; a new family adds an arm where the compiler
//! asks for one (docs/architecture.md lists the files).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

pub use crate::compression::Compression;

/// How a body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// The canonical proto3 JSON mapping.
    Json,
    Protobuf,
}

/// Transport x encoding, without TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StackKind {
    /// HTTP/1.1 + JSON.
    Rest,
    /// HTTP/2 with prior knowledge (h2c) + JSON.
    RestH2,
    /// HTTP/3 (QUIC, always TLS 1.3) + JSON.
    RestH3,
    /// HTTP/1.1 + protobuf body (`application/x-protobuf`).
    RestProto,
    /// gRPC: HTTP/2 + protobuf.
    Grpc,
    /// gRPC framing with a JSON codec (`application/grpc+json`).
    GrpcJson,
    /// gRPC-Web, binary (`application/grpc-web+proto`) over HTTP/1.1: what
    /// a browser speaks; the status travels in a trailer frame of the body.
    GrpcWeb,
    /// gRPC-Web text (`application/grpc-web-text`): the same frames in
    /// base64, over HTTP/1.1.
    GrpcWebText,
    /// The ceiling: the same payload bytes over bare length-prefixed TCP.
    Tcp,
}

/// Which server adapter serves a stack and which shape of request its
/// clients send. Matched (without a wildcard) by the one serve dispatch,
/// the workload contract and the client, so a new family is named to
/// each by the compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// REST routes (axum) over HTTP/1.1, HTTP/2 or HTTP/3.
    Rest,
    /// gRPC (tonic) over HTTP/2.
    Grpc,
    /// gRPC-Web: served by the gRPC server, sent by clients as HTTP/1.1.
    GrpcWeb,
    /// Length-prefixed frames on bare TCP: the ceiling.
    Tcp,
}

/// Which HTTP a stack speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpVersion {
    Http1,
    /// With prior knowledge, or ALPN h2 over TLS.
    Http2,
    /// Over QUIC (always TLS, ALPN h3).
    Http3,
}

/// The media type of a protobuf REST body (`rest-proto`).
pub const PROTOBUF_MEDIA_TYPE: &str = "application/x-protobuf";
/// gRPC-Web, binary.
pub const GRPC_WEB: &str = "application/grpc-web+proto";
/// gRPC-Web, base64 text.
pub const GRPC_WEB_TEXT: &str = "application/grpc-web-text";

/// Everything a stack kind is, in one row.
struct Traits {
    name: &'static str,
    family: Family,
    /// None: not HTTP (tcp).
    http: Option<HttpVersion>,
    encoding: Encoding,
    /// Its bodies travel base64-encoded (gRPC-Web text).
    base64: bool,
    /// The content type of its bodies; None: no header to carry one.
    media_type: Option<&'static str>,
    /// Port `serve` listens on when none is given (the seeds' ports).
    default_port: u16,
    /// What a report says travels on it.
    wire: &'static str,
}

impl StackKind {
    pub const ALL: [StackKind; 9] = [
        StackKind::Rest,
        StackKind::RestH2,
        StackKind::RestH3,
        StackKind::RestProto,
        StackKind::Grpc,
        StackKind::GrpcJson,
        StackKind::GrpcWeb,
        StackKind::GrpcWebText,
        StackKind::Tcp,
    ];

    /// The one row of this stack kind.
    const fn traits(self) -> Traits {
        use Encoding::{Json, Protobuf};
        use HttpVersion::{Http1, Http2, Http3};
        match self {
            StackKind::Rest => Traits {
                name: "rest",
                family: Family::Rest,
                http: Some(Http1),
                encoding: Json,
                base64: false,
                media_type: Some("application/json"),
                default_port: 8000,
                wire: "HTTP/1.1, JSON body, one request in flight per connection",
            },
            StackKind::RestH2 => Traits {
                name: "rest-h2",
                family: Family::Rest,
                http: Some(Http2),
                encoding: Json,
                base64: false,
                media_type: Some("application/json"),
                default_port: 8000,
                wire: "HTTP/2 (h2c prior knowledge), JSON body, requests multiplexed",
            },
            StackKind::RestH3 => Traits {
                name: "rest-h3",
                family: Family::Rest,
                http: Some(Http3),
                encoding: Json,
                base64: false,
                media_type: Some("application/json"),
                default_port: 8443,
                wire: "HTTP/3 over QUIC (UDP, TLS 1.3), JSON body, requests multiplexed",
            },
            StackKind::RestProto => Traits {
                name: "rest-proto",
                family: Family::Rest,
                http: Some(Http1),
                encoding: Protobuf,
                base64: false,
                media_type: Some(PROTOBUF_MEDIA_TYPE),
                default_port: 8000,
                wire: "HTTP/1.1, protobuf body, one request in flight per connection",
            },
            StackKind::Grpc => Traits {
                name: "grpc",
                family: Family::Grpc,
                http: Some(Http2),
                encoding: Protobuf,
                base64: false,
                media_type: Some("application/grpc"),
                default_port: 50051,
                wire: "HTTP/2, gRPC framing, protobuf body, requests multiplexed",
            },
            StackKind::GrpcJson => Traits {
                name: "grpc-json",
                family: Family::Grpc,
                http: Some(Http2),
                encoding: Json,
                base64: false,
                media_type: Some("application/grpc+json"),
                default_port: 50051,
                wire: "HTTP/2, gRPC framing, JSON body, requests multiplexed",
            },
            StackKind::GrpcWeb => Traits {
                name: "grpc-web",
                family: Family::GrpcWeb,
                http: Some(Http1),
                encoding: Protobuf,
                base64: false,
                media_type: Some(GRPC_WEB),
                default_port: 8080,
                wire: "HTTP/1.1, gRPC-Web framing (status in a trailer frame), protobuf body, one request in flight per connection",
            },
            StackKind::GrpcWebText => Traits {
                name: "grpc-web-text",
                family: Family::GrpcWeb,
                http: Some(Http1),
                encoding: Protobuf,
                base64: true,
                media_type: Some(GRPC_WEB_TEXT),
                default_port: 8080,
                wire: "HTTP/1.1, gRPC-Web text framing (base64), protobuf body, one request in flight per connection",
            },
            StackKind::Tcp => Traits {
                name: "tcp",
                family: Family::Tcp,
                http: None,
                encoding: Protobuf,
                base64: false,
                media_type: None,
                default_port: 9000,
                wire: "bare TCP, 4-byte length prefix, raw payload bytes, one request in flight per connection",
            },
        }
    }

    pub fn name(self) -> &'static str {
        self.traits().name
    }

    pub fn family(self) -> Family {
        self.traits().family
    }

    /// The HTTP it speaks; None: not HTTP (tcp).
    pub fn http_version(self) -> Option<HttpVersion> {
        self.traits().http
    }

    /// How it encodes a message: protobuf on `rest-proto`, the gRPC stacks
    /// and `tcp`, the canonical JSON mapping on the JSON stacks.
    pub fn encoding(self) -> Encoding {
        self.traits().encoding
    }

    /// Its bodies travel base64-encoded (gRPC-Web text).
    pub fn base64(self) -> bool {
        self.traits().base64
    }
}

impl Family {
    /// The family a URL scheme reaches, and whether the scheme says TLS:
    /// the inverse of [`Stack::scheme`].
    pub fn of_scheme(scheme: &str) -> Option<(Family, bool)> {
        // gRPC-Web shares REST's schemes: a URL reaches REST.
        [Family::Rest, Family::Grpc, Family::Tcp]
            .into_iter()
            .find_map(|family| {
                let tls = family.schemes().iter().position(|s| *s == scheme)?;
                Some((family, tls == 1))
            })
    }

    /// Its URL schemes, plain and over TLS: `http`/`https`, `grpc`/`grpcs`,
    /// `tcp`/`tcps`. gRPC-Web is HTTP to its clients.
    fn schemes(self) -> [&'static str; 2] {
        match self {
            Family::Rest | Family::GrpcWeb => ["http", "https"],
            Family::Grpc => ["grpc", "grpcs"],
            Family::Tcp => ["tcp", "tcps"],
        }
    }

    /// Its plain URL scheme: `http`, `grpc` or `tcp`.
    pub fn scheme(self) -> &'static str {
        self.schemes()[0]
    }

    /// The kind of this family a `load` URL reaches, given what its flags
    /// ask: HTTP/2 or a protobuf body of REST, the JSON codec of gRPC.
    /// A wish another family has no kind for is not this family's to
    /// grant, so it is ignored (as `load` always has).
    pub fn kind_for(self, wishes: UrlWishes) -> StackKind {
        match self {
            Family::Rest if wishes.http2 => StackKind::RestH2,
            Family::Rest if wishes.protobuf => StackKind::RestProto,
            Family::Rest => StackKind::Rest,
            Family::Grpc if wishes.grpc_json => StackKind::GrpcJson,
            Family::Grpc => StackKind::Grpc,
            Family::GrpcWeb => StackKind::GrpcWeb,
            Family::Tcp => StackKind::Tcp,
        }
    }
}

/// What `load`'s flags ask of the stack its URL reaches.
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlWishes {
    /// `--http2`.
    pub http2: bool,
    /// An `Accept: application/x-protobuf` header.
    pub protobuf: bool,
    /// `--grpc-json`.
    pub grpc_json: bool,
}

/// How a request travels: transport x encoding, optionally over TLS.
/// Written "rest", "grpc-json", "rest-h2+tls", ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stack {
    pub kind: StackKind,
    /// Always true for rest-h3: QUIC has no plain form.
    pub tls: bool,
    pub compression: Option<Compression>,
}

impl Stack {
    pub const REST: Stack = Stack::plain(StackKind::Rest);
    pub const GRPC: Stack = Stack::plain(StackKind::Grpc);

    /// The default comparison: REST vs gRPC.
    pub const DEFAULT: [Stack; 2] = [Stack::REST, Stack::GRPC];

    /// `kind` without TLS (but rest-h3, which is always TLS) and
    /// uncompressed.
    pub const fn plain(kind: StackKind) -> Stack {
        Stack {
            kind,
            tls: matches!(kind, StackKind::RestH3),
            compression: None,
        }
    }

    /// `kind` over TLS, uncompressed.
    pub const fn tls(kind: StackKind) -> Stack {
        Stack {
            kind,
            tls: true,
            compression: None,
        }
    }

    /// This stack with every body compressed.
    pub const fn compressed(self, compression: Compression) -> Stack {
        Stack {
            compression: Some(compression),
            ..self
        }
    }

    /// "grpc", "rest-h2+tls", "grpc+tls+gzip": the kind, then `+tls`
    /// (implied by rest-h3), then the compression.
    pub fn name(self) -> String {
        let mut name = self.kind.name().to_owned();
        if self.tls && self.kind != StackKind::RestH3 {
            name.push_str("+tls");
        }
        if let Some(compression) = self.compression {
            name.push('+');
            name.push_str(compression.name());
        }
        name
    }

    /// Its family: which server adapter serves it, which client sends.
    pub fn family(self) -> Family {
        self.kind.family()
    }

    /// The HTTP it speaks; None: not HTTP (tcp).
    pub fn http_version(self) -> Option<HttpVersion> {
        self.kind.http_version()
    }

    /// How it encodes a message (protobuf or the canonical JSON mapping).
    pub fn encoding(self) -> Encoding {
        self.kind.encoding()
    }

    /// The content type of its bodies; None: tcp's frames carry none.
    pub fn media_type(self) -> Option<&'static str> {
        self.kind.traits().media_type
    }

    /// Its bodies travel base64-encoded (gRPC-Web text).
    pub fn base64(self) -> bool {
        self.kind.base64()
    }

    /// The bare-TCP ceiling the other stacks are measured against.
    pub fn is_ceiling(self) -> bool {
        self.family() == Family::Tcp
    }

    /// Whether its bodies can be compressed: tcp's frames have no header
    /// to name a compression.
    pub fn can_compress(self) -> bool {
        self.family() != Family::Tcp
    }

    /// Whether the three-service pipeline runs over it: its hops are
    /// HTTP/1.1, HTTP/2 or TCP clients, none speaks HTTP/3.
    pub fn carries_pipeline(self) -> bool {
        !self.is_quic()
    }

    /// HTTP/3 over QUIC (UDP), not TCP.
    pub fn is_quic(self) -> bool {
        self.http_version() == Some(HttpVersion::Http3)
    }

    /// gRPC-Web, binary or text.
    pub fn is_grpc_web(self) -> bool {
        self.family() == Family::GrpcWeb
    }

    /// HTTP with REST routes (any version, any body encoding).
    pub fn is_rest(self) -> bool {
        self.family() == Family::Rest
    }

    /// Whether its bodies are JSON (rest, rest-h2, rest-h3, grpc-json), so
    /// a JSON codec serves it.
    pub fn speaks_json(self) -> bool {
        self.encoding() == Encoding::Json
    }

    /// A gRPC server answers it (gRPC framing, any codec; gRPC-Web too).
    pub fn is_grpc(self) -> bool {
        matches!(self.family(), Family::Grpc | Family::GrpcWeb)
    }

    /// Speaks HTTP/2 (and so multiplexes requests on a connection).
    pub fn is_http2(self) -> bool {
        self.http_version() == Some(HttpVersion::Http2)
    }

    /// Multiplexes requests on a connection (HTTP/2, HTTP/3).
    pub fn multiplexes(self) -> bool {
        self.is_http2() || self.is_quic()
    }

    /// Connections used when `--connections` is not given: one per sender
    /// where a connection carries one request at a time (HTTP/1.1, TCP),
    /// one where requests multiplex (HTTP/2, HTTP/3 and gRPC, as ghz does).
    pub fn default_connections(self, senders: u32) -> u32 {
        if self.multiplexes() { 1 } else { senders }
    }

    /// The URL scheme `load` reaches this stack at: `http`, `grpc` or
    /// `tcp`, with an `s` for TLS (`https`, `grpcs`, `tcps`). gRPC-Web is
    /// HTTP to its clients; HTTP/3 is https.
    pub fn scheme(self) -> &'static str {
        self.family().schemes()[usize::from(self.tls)]
    }

    /// Port `serve` listens on when none is given (the seeds' ports).
    pub fn default_port(self) -> u16 {
        self.kind.traits().default_port
    }

    /// The ALPN protocol this stack negotiates over TLS.
    pub fn alpn(self) -> &'static [u8] {
        match self.http_version() {
            Some(HttpVersion::Http1) => b"http/1.1",
            Some(HttpVersion::Http2) => b"h2",
            Some(HttpVersion::Http3) => b"h3",
            None => b"wirebench-tcp",
        }
    }

    /// What a report says travels differently on this stack, so a reader
    /// knows what else besides the protocol's name the numbers include.
    pub fn wire_description(self) -> String {
        let mut text = self.kind.traits().wire.to_owned();
        if self.is_quic() {
            text.push_str(&format!(
                ", congestion control {} (the kernel TCP's)",
                crate::quic::kernel_congestion_control()
            ));
        }
        if self.tls && !self.is_quic() {
            // The version is the one negotiated: the trial adds it.
            text.push_str(", over TLS");
        }
        if let Some(compression) = self.compression {
            text.push_str(&format!(
                ", every body {} level {}",
                compression.name(),
                compression.level()
            ));
        }
        text
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("unknown {what} '{got}' (expected one of: {expected})")]
pub struct UnknownName {
    pub what: &'static str,
    pub got: String,
    pub expected: String,
}

impl FromStr for Stack {
    type Err = UnknownName;
    /// "KIND[+tls][+gzip|+zstd]"; tcp frames have no encoding to name,
    /// so tcp takes no compression.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let unknown = |expected: String| UnknownName {
            what: "stack",
            got: s.to_owned(),
            expected,
        };
        let mut parts = s.split('+');
        let kind = parts.next().unwrap_or_default();
        let mut stack = StackKind::ALL
            .into_iter()
            .find(|k| k.name() == kind)
            .map(Stack::plain)
            .ok_or_else(|| {
                unknown(format!(
                    "{}, each optionally +tls, then +gzip or +zstd",
                    StackKind::ALL.map(StackKind::name).join(", ")
                ))
            })?;
        let mut seen_tls = false;
        for part in parts {
            let compression = Compression::ALL.into_iter().find(|c| c.name() == part);
            match (part, compression) {
                ("tls", _) if !seen_tls && stack.compression.is_none() => {
                    seen_tls = true;
                    stack.tls = true;
                }
                (_, Some(_)) if !stack.can_compress() => {
                    return Err(unknown(
                        "tcp without a compression: its frames have no header to name one"
                            .to_owned(),
                    ));
                }
                (_, Some(compression)) if stack.compression.is_none() => {
                    stack.compression = Some(compression);
                }
                _ => {
                    return Err(unknown(format!(
                        "{kind}, then +tls, then +gzip or +zstd, each at most once"
                    )));
                }
            }
        }
        Ok(stack)
    }
}

impl Serialize for Stack {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for Stack {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stack, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Which of the three pipeline services a process is (producer ->
/// processor -> aggregator, in the order they are started).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Producer,
    Processor,
    Aggregator,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Producer, Role::Processor, Role::Aggregator];

    pub fn name(self) -> &'static str {
        match self {
            Role::Producer => "producer",
            Role::Processor => "processor",
            Role::Aggregator => "aggregator",
        }
    }

    /// The seed's ports.
    pub fn default_port(self, stack: Stack) -> u16 {
        let base = stack.default_port();
        base + match self {
            Role::Producer => 0,
            Role::Processor => 1,
            Role::Aggregator => 2,
        }
    }

    /// The gRPC service it serves.
    pub fn grpc_service(self) -> &'static str {
        match self {
            Role::Producer => "ProducerService",
            Role::Processor => "ProcessorService",
            Role::Aggregator => "AggregatorService",
        }
    }

    /// The role this one calls, if any.
    pub fn next(self) -> Option<Role> {
        match self {
            Role::Producer => None,
            Role::Processor => Some(Role::Producer),
            Role::Aggregator => Some(Role::Processor),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| UnknownName {
                what: "role",
                got: s.to_owned(),
                expected: "producer, processor, aggregator".to_owned(),
            })
    }
}

/// What a server serves, as `serve` and `bench` name it: each is one
/// service of the server crate (`wirebench_server::Service`), and its
/// requests are the [`Workload`]s a result records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceKind {
    /// The payload service: its payload (and echo) requests.
    Payload,
    /// The pipeline's three roles, one per process.
    Pipeline,
    /// A structured message, down, up and echo.
    Message,
    /// A mix of calls, each at its own route and method.
    Mix,
}

impl ServiceKind {
    pub const ALL: [ServiceKind; 4] = [
        ServiceKind::Payload,
        ServiceKind::Pipeline,
        ServiceKind::Message,
        ServiceKind::Mix,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ServiceKind::Payload => "payload",
            ServiceKind::Pipeline => "pipeline",
            ServiceKind::Message => "message",
            ServiceKind::Mix => "mix",
        }
    }

    /// For `--help`.
    pub fn describe(self) -> &'static str {
        match self {
            ServiceKind::Payload => {
                "seed 000's payload service: a small request, an N KiB answer (and echo)"
            }
            ServiceKind::Pipeline => {
                "seed 002's pipeline: aggregator -> processor -> producer, one role per process (--role)"
            }
            ServiceKind::Message => {
                "a structured message (--shape, or your --proto), down, up and echo"
            }
            ServiceKind::Mix => "a mix of calls (--mix FILE), each at its own route and method",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ServiceKind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ServiceKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| UnknownName {
                what: "workload",
                got: s.to_owned(),
                expected: ServiceKind::ALL.map(ServiceKind::name).join(", "),
            })
    }
}

/// What one request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// Seed 000: a small request, an N KiB response.
    Payload,
    /// N KiB up and the same N KiB back.
    Echo,
    /// Seed 002: aggregator -> processor -> producer.
    Pipeline,
    /// A structured message (a built-in shape) down, up or both ways.
    Message,
    /// A request to a server wirebench did not write, defined by its URL.
    External,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Payload => "payload",
            Workload::Echo => "echo",
            Workload::Pipeline => "pipeline",
            Workload::Message => "message",
            Workload::External => "external",
        }
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stack_has_its_scheme() {
        let scheme = |name: &str| name.parse::<Stack>().unwrap().scheme();
        assert_eq!(scheme("rest"), "http");
        assert_eq!(scheme("rest-proto+tls"), "https");
        assert_eq!(scheme("rest-h3"), "https", "HTTP/3 is always TLS");
        assert_eq!(
            scheme("grpc-web+gzip"),
            "http",
            "gRPC-Web is HTTP to its clients"
        );
        assert_eq!(scheme("grpc-json"), "grpc");
        assert_eq!(scheme("grpc+tls"), "grpcs");
        assert_eq!(scheme("tcp+tls"), "tcps");
    }

    #[test]
    fn stack_names_round_trip() {
        for kind in StackKind::ALL {
            for tls in [false, true] {
                for compression in [None, Some(Compression::Gzip), Some(Compression::Zstd)] {
                    if kind == StackKind::Tcp && compression.is_some() {
                        continue;
                    }
                    let tls = tls || kind == StackKind::RestH3;
                    let stack = Stack {
                        kind,
                        tls,
                        compression,
                    };
                    assert_eq!(stack.name().parse::<Stack>().unwrap(), stack);
                    assert_eq!(
                        serde_json::to_string(&stack).unwrap(),
                        format!("\"{}\"", stack.name())
                    );
                }
            }
        }
        assert_eq!(
            "grpc+tls+gzip".parse::<Stack>().unwrap(),
            Stack::tls(StackKind::Grpc).compressed(Compression::Gzip)
        );
        assert_eq!("rest-h3+tls".parse::<Stack>().unwrap().name(), "rest-h3");
        assert!("tcp+gzip".parse::<Stack>().is_err());
        assert!("rest+gzip+tls".parse::<Stack>().is_err());
        assert!("rest+gzip+zstd".parse::<Stack>().is_err());
        assert!("rest+brotli".parse::<Stack>().is_err());
        assert_eq!(
            "grpc-json+tls".parse::<Stack>().unwrap().to_string(),
            "grpc-json+tls"
        );
        let err = "soap".parse::<Stack>().unwrap_err().to_string();
        assert!(err.contains("rest, rest-h2"), "{err}");
        assert!("rest+tls+tls".parse::<Stack>().is_err());
    }
}

/// How load is offered: the three load models of the peers (Locust, ab/ghz, an open loop).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LoadModel {
    /// Locust: `users` users, started at `spawn_rate_per_s` users per
    /// second, each sending its next request as soon as the last one ends.
    Users { users: u32, spawn_rate_per_s: f64 },
    /// ab/ghz: `concurrency` requests in flight from the first moment on.
    Fixed { concurrency: u32 },
    /// Open loop: requests are due at a constant `rate_per_s`, whether or not
    /// earlier ones have come back; at most `max_in_flight` at once. Latency
    /// is measured from the time a request was due (coordinated omission
    /// corrected).
    Rate { rate_per_s: f64, max_in_flight: u32 },
}

impl LoadModel {
    pub fn name(&self) -> &'static str {
        match self {
            LoadModel::Users { .. } => "users",
            LoadModel::Fixed { .. } => "fixed",
            LoadModel::Rate { .. } => "rate",
        }
    }

    /// How many senders run at once once the ramp is over.
    pub fn senders(&self) -> u32 {
        match *self {
            LoadModel::Users { users, .. } => users,
            LoadModel::Fixed { concurrency } => concurrency,
            LoadModel::Rate { max_in_flight, .. } => max_in_flight,
        }
    }
}

impl fmt::Display for LoadModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            LoadModel::Users {
                users,
                spawn_rate_per_s,
            } => write!(f, "users: {users} users, spawn {spawn_rate_per_s}/s"),
            LoadModel::Fixed { concurrency } => write!(f, "fixed: {concurrency} in flight"),
            LoadModel::Rate {
                rate_per_s,
                max_in_flight,
            } => write!(
                f,
                "rate: {} req/s open loop, at most {max_in_flight} in flight",
                (rate_per_s * 100.0).round() / 100.0
            ),
        }
    }
}

/// When the measured window ends. One or the other, never neither.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopAt {
    /// After this many measured requests (ab/ghz `-n`).
    Requests(u64),
    /// After this long (Locust `-t`, oha `-z`), in seconds.
    #[serde(rename = "duration_s", with = "seconds")]
    Duration(std::time::Duration),
}

impl fmt::Display for StopAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopAt::Requests(n) => write!(f, "{n} requests"),
            StopAt::Duration(d) => write!(f, "{} s", d.as_secs_f64()),
        }
    }
}

/// Serde for `Duration` as fractional seconds, the unit every result uses.
pub mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        Duration::try_from_secs_f64(secs).map_err(serde::de::Error::custom)
    }
}
