//! The shared vocabulary of DESIGN.md: what a request does (`Workload`) and
//! how it travels (`Stack`). Every crate names these the same way, and the
//! names are stable: they appear on the command line and in result files.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Transport x encoding, without TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StackKind {
    /// HTTP/1.1 + JSON.
    Rest,
    /// HTTP/2 with prior knowledge (h2c) + JSON.
    RestH2,
    /// HTTP/1.1 + protobuf body (`application/x-protobuf`).
    RestProto,
    /// gRPC: HTTP/2 + protobuf.
    Grpc,
    /// gRPC framing with a JSON codec (`application/grpc+json`).
    GrpcJson,
    /// The ceiling: the same payload bytes over bare length-prefixed TCP.
    Tcp,
}

impl StackKind {
    pub const ALL: [StackKind; 6] = [
        StackKind::Rest,
        StackKind::RestH2,
        StackKind::RestProto,
        StackKind::Grpc,
        StackKind::GrpcJson,
        StackKind::Tcp,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StackKind::Rest => "rest",
            StackKind::RestH2 => "rest-h2",
            StackKind::RestProto => "rest-proto",
            StackKind::Grpc => "grpc",
            StackKind::GrpcJson => "grpc-json",
            StackKind::Tcp => "tcp",
        }
    }
}

/// How a request travels: transport x encoding, optionally over TLS.
/// Written "rest", "grpc-json", "rest-h2+tls", ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stack {
    pub kind: StackKind,
    pub tls: bool,
}

impl Stack {
    pub const REST: Stack = Stack::plain(StackKind::Rest);
    pub const GRPC: Stack = Stack::plain(StackKind::Grpc);

    /// The default comparison: REST vs gRPC.
    pub const DEFAULT: [Stack; 2] = [Stack::REST, Stack::GRPC];

    pub const fn plain(kind: StackKind) -> Stack {
        Stack { kind, tls: false }
    }

    pub fn name(self) -> String {
        if self.tls {
            format!("{}+tls", self.kind.name())
        } else {
            self.kind.name().to_owned()
        }
    }

    /// HTTP with REST routes (any version, any body encoding).
    pub fn is_rest(self) -> bool {
        matches!(
            self.kind,
            StackKind::Rest | StackKind::RestH2 | StackKind::RestProto
        )
    }

    /// gRPC framing (any codec).
    /// Whether its bodies are JSON (rest, rest-h2, grpc-json), so a JSON
    /// codec serves it.
    pub fn speaks_json(self) -> bool {
        matches!(
            self.kind,
            StackKind::Rest | StackKind::RestH2 | StackKind::GrpcJson
        )
    }

    pub fn is_grpc(self) -> bool {
        matches!(self.kind, StackKind::Grpc | StackKind::GrpcJson)
    }

    /// Speaks HTTP/2 (and so multiplexes requests on a connection).
    pub fn is_http2(self) -> bool {
        matches!(
            self.kind,
            StackKind::RestH2 | StackKind::Grpc | StackKind::GrpcJson
        )
    }

    /// Connections used when `--connections` is not given: one per sender
    /// where a connection carries one request at a time (HTTP/1.1, TCP),
    /// one where requests multiplex (HTTP/2 and gRPC, as ghz does).
    pub fn default_connections(self, senders: u32) -> u32 {
        if self.is_http2() { 1 } else { senders }
    }

    /// Port `serve` listens on when none is given (the seeds' ports).
    pub fn default_port(self) -> u16 {
        match self.kind {
            StackKind::Rest | StackKind::RestH2 | StackKind::RestProto => 8000,
            StackKind::Grpc | StackKind::GrpcJson => 50051,
            StackKind::Tcp => 9000,
        }
    }

    /// The ALPN protocol this stack negotiates over TLS.
    pub fn alpn(self) -> &'static [u8] {
        match self.kind {
            StackKind::Rest | StackKind::RestProto => b"http/1.1",
            StackKind::RestH2 | StackKind::Grpc | StackKind::GrpcJson => b"h2",
            StackKind::Tcp => b"wirebench-tcp",
        }
    }

    /// What a report says travels differently on this stack, so a reader
    /// knows what else besides the protocol's name the numbers include.
    pub fn wire_description(self) -> String {
        let base = match self.kind {
            StackKind::Rest => "HTTP/1.1, JSON body, one request in flight per connection",
            StackKind::RestH2 => "HTTP/2 (h2c prior knowledge), JSON body, requests multiplexed",
            StackKind::RestProto => "HTTP/1.1, protobuf body, one request in flight per connection",
            StackKind::Grpc => "HTTP/2, gRPC framing, protobuf body, requests multiplexed",
            StackKind::GrpcJson => "HTTP/2, gRPC framing, JSON body, requests multiplexed",
            StackKind::Tcp => {
                "bare TCP, 4-byte length prefix, raw payload bytes, one request in flight per connection"
            }
        };
        if self.tls {
            format!("{base}, over TLS 1.3")
        } else {
            base.to_owned()
        }
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
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, tls) = match s.strip_suffix("+tls") {
            Some(kind) => (kind, true),
            None => (s, false),
        };
        StackKind::ALL
            .into_iter()
            .find(|k| k.name() == kind)
            .map(|kind| Stack { kind, tls })
            .ok_or_else(|| UnknownName {
                what: "stack",
                got: s.to_owned(),
                expected: format!(
                    "{}, each optionally +tls",
                    StackKind::ALL.map(StackKind::name).join(", ")
                ),
            })
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
    fn stack_names_round_trip() {
        for kind in StackKind::ALL {
            for tls in [false, true] {
                let stack = Stack { kind, tls };
                assert_eq!(stack.name().parse::<Stack>().unwrap(), stack);
                assert_eq!(
                    serde_json::to_string(&stack).unwrap(),
                    format!("\"{}\"", stack.name())
                );
            }
        }
        assert_eq!(
            "grpc-json+tls".parse::<Stack>().unwrap().to_string(),
            "grpc-json+tls"
        );
        let err = "soap".parse::<Stack>().unwrap_err().to_string();
        assert!(err.contains("rest, rest-h2"), "{err}");
        assert!("rest+tls+tls".parse::<Stack>().is_err());
    }
}

/// How load is offered (DESIGN.md "load model").
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
