//! `latency=20ms,jitter=5ms,bandwidth=100mbit,reset=0.001`, parsed once.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::Serialize;

/// The network between the load engine and the servers.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct NetConditions {
    /// One-way delay, each direction.
    #[serde(rename = "latency_s", serialize_with = "seconds")]
    pub latency: Duration,
    /// Up to this much extra delay, uniformly at random, per chunk.
    #[serde(rename = "jitter_s", serialize_with = "seconds")]
    pub jitter: Duration,
    /// The link's rate in each direction, bits per second (None: unlimited).
    pub bandwidth_bits_per_s: Option<u64>,
    /// Chance, per chunk sent by the client, that the connection is reset.
    pub reset_probability: f64,
    /// Chance that the kernel drops a packet, each direction: real loss,
    /// on the network-namespace path only (a user-space proxy cannot lose
    /// what TCP carries). `loss=1%` or `loss=0.01`.
    pub loss_probability: f64,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConditionsError {
    #[error("'{0}' is not name=value (latency, jitter, bandwidth, reset, loss)")]
    Shape(String),
    #[error("unknown condition '{0}' (latency, jitter, bandwidth, reset, loss)")]
    Unknown(String),
    #[error("{name}: '{value}' is not {expected}")]
    Value {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl NetConditions {
    /// True when nothing is asked for.
    pub fn is_clear(&self) -> bool {
        *self == NetConditions::default()
    }

    /// What is left for the user-space proxy when the path is a
    /// namespace's (`path`), whose kernel drops packets and shapes the
    /// bandwidth and whose delay line holds packets: resets only. None
    /// when nothing is.
    pub fn for_proxy(&self, path: bool) -> Option<NetConditions> {
        let proxy = match path {
            true => NetConditions {
                reset_probability: self.reset_probability,
                ..NetConditions::default()
            },
            false => NetConditions {
                loss_probability: 0.0,
                ..*self
            },
        };
        (!proxy.is_clear()).then_some(proxy)
    }

    /// Whether the path delays packets.
    pub fn delays(&self) -> bool {
        !self.latency.is_zero() || !self.jitter.is_zero()
    }

    /// Whether a namespace path has anything to do in its kernel (delay,
    /// loss, bandwidth): everything but resets.
    pub fn in_kernel(&self) -> bool {
        self.delays() || self.loss_probability > 0.0 || self.bandwidth_bits_per_s.is_some()
    }
}

fn bandwidth(value: &str) -> Option<u64> {
    let lower = value.to_ascii_lowercase();
    let (number, scale) = [("gbit", 1e9), ("mbit", 1e6), ("kbit", 1e3), ("bit", 1.0)]
        .into_iter()
        .find_map(|(unit, scale)| lower.strip_suffix(unit).map(|n| (n, scale)))?;
    let bits = number.trim().parse::<f64>().ok()? * scale;
    (bits.is_finite() && bits >= 1.0).then_some(bits as u64)
}

impl FromStr for NetConditions {
    type Err = ConditionsError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut conditions = NetConditions::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| ConditionsError::Shape(part.to_owned()))?;
            let value = value.trim();
            let duration = |name: &'static str| {
                humantime::parse_duration(value).map_err(|_| ConditionsError::Value {
                    name,
                    value: value.to_owned(),
                    expected: "a duration like 20ms",
                })
            };
            match name.trim() {
                "latency" | "delay" => conditions.latency = duration("latency")?,
                "jitter" => conditions.jitter = duration("jitter")?,
                "bandwidth" | "rate" => {
                    conditions.bandwidth_bits_per_s =
                        Some(bandwidth(value).ok_or(ConditionsError::Value {
                            name: "bandwidth",
                            value: value.to_owned(),
                            expected: "a rate like 100mbit, 10mbit, 512kbit",
                        })?)
                }
                "loss" => {
                    let (number, scale) = match value.strip_suffix('%') {
                        Some(percent) => (percent.trim(), 0.01),
                        None => (value, 1.0),
                    };
                    conditions.loss_probability = number
                        .parse::<f64>()
                        .ok()
                        .map(|p| p * scale)
                        .filter(|p| (0.0..1.0).contains(p))
                        .ok_or(ConditionsError::Value {
                            name: "loss",
                            value: value.to_owned(),
                            expected: "a share of packets below 1, like 1% or 0.01",
                        })?
                }
                "reset" => {
                    conditions.reset_probability = value
                        .parse::<f64>()
                        .ok()
                        .filter(|p| (0.0..=1.0).contains(p))
                        .ok_or(ConditionsError::Value {
                            name: "reset",
                            value: value.to_owned(),
                            expected: "a probability from 0 to 1",
                        })?
                }
                other => return Err(ConditionsError::Unknown(other.to_owned())),
            }
        }
        Ok(conditions)
    }
}

impl fmt::Display for NetConditions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.latency.is_zero() {
            parts.push(format!(
                "latency={}",
                humantime::format_duration(self.latency)
            ));
        }
        if !self.jitter.is_zero() {
            parts.push(format!(
                "jitter={}",
                humantime::format_duration(self.jitter)
            ));
        }
        if let Some(bits) = self.bandwidth_bits_per_s {
            parts.push(format!("bandwidth={}kbit", bits / 1000));
        }
        if self.reset_probability > 0.0 {
            parts.push(format!("reset={}", self.reset_probability));
        }
        if self.loss_probability > 0.0 {
            parts.push(format!("loss={}%", self.loss_probability * 100.0));
        }
        if parts.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&parts.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_condition() {
        let c: NetConditions = "latency=20ms,jitter=5ms,bandwidth=100mbit,reset=0.001"
            .parse()
            .unwrap();
        assert_eq!(c.latency, Duration::from_millis(20));
        assert_eq!(c.jitter, Duration::from_millis(5));
        assert_eq!(c.bandwidth_bits_per_s, Some(100_000_000));
        assert_eq!(c.reset_probability, 0.001);
        assert_eq!(
            "bandwidth=512kbit"
                .parse::<NetConditions>()
                .unwrap()
                .bandwidth_bits_per_s,
            Some(512_000)
        );
        assert!("".parse::<NetConditions>().unwrap().is_clear());
        assert!(matches!(
            "colour=red".parse::<NetConditions>(),
            Err(ConditionsError::Unknown(_))
        ));
        assert!("latency".parse::<NetConditions>().is_err());
        assert!("reset=2".parse::<NetConditions>().is_err());
        let lossy: NetConditions = "latency=20ms,loss=5%".parse().unwrap();
        assert_eq!(lossy.loss_probability, 0.05);
        assert_eq!(lossy.to_string(), "latency=20ms,loss=5%");
        assert_eq!(
            "loss=0.01"
                .parse::<NetConditions>()
                .unwrap()
                .loss_probability,
            0.01
        );
        assert!("loss=100%".parse::<NetConditions>().is_err());
        assert!("loss=-1%".parse::<NetConditions>().is_err());
        assert!("bandwidth=fast".parse::<NetConditions>().is_err());
        assert_eq!(
            c.to_string(),
            "latency=20ms,jitter=5ms,bandwidth=100000kbit,reset=0.001"
        );
    }
}
