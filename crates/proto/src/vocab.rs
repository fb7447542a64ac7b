//! The shared vocabulary of DESIGN.md: what a request does (`Workload`) and
//! how it travels (`Stack`). Every crate names these the same way, and the
//! names are stable: they appear on the command line and in result files.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How a request travels: transport x encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stack {
    /// HTTP/1.1 + JSON.
    Rest,
    /// gRPC: HTTP/2 + protobuf.
    Grpc,
}

impl Stack {
    pub const ALL: [Stack; 2] = [Stack::Rest, Stack::Grpc];

    pub fn name(self) -> &'static str {
        match self {
            Stack::Rest => "rest",
            Stack::Grpc => "grpc",
        }
    }

    /// Port `serve` listens on when none is given (the seeds' ports).
    pub fn default_port(self) -> u16 {
        match self {
            Stack::Rest => 8000,
            Stack::Grpc => 50051,
        }
    }

    /// What a report says travels differently on this stack, so a reader
    /// knows what else besides "REST vs gRPC" the numbers include.
    pub fn wire_description(self) -> &'static str {
        match self {
            Stack::Rest => "HTTP/1.1, JSON body, one request in flight per connection",
            Stack::Grpc => "HTTP/2, protobuf body, requests multiplexed on each connection",
        }
    }
}

impl fmt::Display for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
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
        Stack::ALL
            .into_iter()
            .find(|stack| stack.name() == s)
            .ok_or_else(|| UnknownName {
                what: "stack",
                got: s.to_owned(),
                expected: Stack::ALL.map(Stack::name).join(", "),
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
    /// A request to a server wirebench did not write, defined by its URL.
    External,
}

impl Workload {
    pub fn name(self) -> &'static str {
        match self {
            Workload::Payload => "payload",
            Workload::Echo => "echo",
            Workload::Pipeline => "pipeline",
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
        for stack in Stack::ALL {
            assert_eq!(stack.name().parse::<Stack>().unwrap(), stack);
            assert_eq!(
                serde_json::to_string(&stack).unwrap(),
                format!("\"{}\"", stack.name())
            );
        }
        let err = "soap".parse::<Stack>().unwrap_err().to_string();
        assert!(err.contains("rest, grpc"), "{err}");
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
                "rate: {rate_per_s} req/s open loop, at most {max_in_flight} in flight"
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
