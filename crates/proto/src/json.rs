//! The JSON codec of every JSON stack (rest, rest-h2, grpc-json, the
//! pipeline's REST services, the message workload's JSON), one per server
//! process: `serve --json-codec serde_json|sonic-rs`.
//!
//! serde_json is the ecosystem's default (axum's `Json`), so it stays the
//! default; sonic-rs is the fast one an expert may reach for (SIMD string
//! scanning and escaping). Both serialize the same serde types, so every
//! handler and message is the same whichever serves: the codec is the only
//! difference, and `bench --json-codec serde_json,sonic-rs` makes it a
//! factor of the run. The choice is made once, before serving, and read
//! with one relaxed atomic load per message.

use std::sync::atomic::{AtomicU8, Ordering};

use serde::{Deserialize, Serialize};

/// Which library encodes and decodes JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Codec {
    #[default]
    #[serde(rename = "serde_json")]
    SerdeJson,
    #[serde(rename = "sonic-rs")]
    SonicRs,
}

impl Codec {
    pub const ALL: [Codec; 2] = [Codec::SerdeJson, Codec::SonicRs];

    pub fn name(self) -> &'static str {
        match self {
            Codec::SerdeJson => "serde_json",
            Codec::SonicRs => "sonic-rs",
        }
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Codec {
    type Err = String;
    fn from_str(text: &str) -> Result<Codec, String> {
        Codec::ALL
            .into_iter()
            .find(|c| c.name() == text || (text == "sonic_rs" && *c == Codec::SonicRs))
            .ok_or_else(|| format!("'{text}' is not a JSON codec (serde_json or sonic-rs)"))
    }
}

static SELECTED: AtomicU8 = AtomicU8::new(0);

/// Makes `codec` this process's JSON codec (call before serving).
pub fn select(codec: Codec) {
    SELECTED.store(codec as u8, Ordering::Relaxed);
}

/// This process's JSON codec.
pub fn selected() -> Codec {
    match SELECTED.load(Ordering::Relaxed) {
        0 => Codec::SerdeJson,
        _ => Codec::SonicRs,
    }
}

impl Codec {
    /// Appends `value` as JSON to `out`.
    pub fn to_writer<T: Serialize + ?Sized>(
        self,
        out: &mut Vec<u8>,
        value: &T,
    ) -> Result<(), String> {
        match self {
            Codec::SerdeJson => serde_json::to_writer(out, value).map_err(|e| e.to_string()),
            Codec::SonicRs => sonic_rs::to_writer(out, value).map_err(|e| e.to_string()),
        }
    }

    pub fn from_slice<'a, T: Deserialize<'a>>(self, bytes: &'a [u8]) -> Result<T, String> {
        match self {
            Codec::SerdeJson => serde_json::from_slice(bytes).map_err(|e| e.to_string()),
            Codec::SonicRs => sonic_rs::from_slice(bytes).map_err(|e| e.to_string()),
        }
    }

    /// Decodes through a seed (prost-reflect's dynamic messages
    /// deserialize with their descriptor); trailing text is an error.
    pub fn from_slice_seed<'a, S: serde::de::DeserializeSeed<'a>>(
        self,
        bytes: &'a [u8],
        seed: S,
    ) -> Result<S::Value, String> {
        match self {
            Codec::SerdeJson => {
                let mut de = serde_json::Deserializer::from_slice(bytes);
                let value = seed.deserialize(&mut de).map_err(|e| e.to_string())?;
                de.end().map_err(|e| e.to_string())?;
                Ok(value)
            }
            Codec::SonicRs => {
                let mut de = sonic_rs::Deserializer::from_slice(bytes);
                let value = seed.deserialize(&mut de).map_err(|e| e.to_string())?;
                de.end().map_err(|e| e.to_string())?;
                Ok(value)
            }
        }
    }
}

/// Appends `value` as JSON to `out`, with this process's codec.
pub fn to_writer<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), String> {
    selected().to_writer(out, value)
}

/// `value` as JSON, with this process's codec.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    to_writer(&mut out, value)?;
    Ok(out)
}

/// Decodes JSON with this process's codec.
pub fn from_slice<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    selected().from_slice(bytes)
}

/// Decodes JSON through a seed with this process's codec.
pub fn from_slice_seed<'a, S: serde::de::DeserializeSeed<'a>>(
    bytes: &'a [u8],
    seed: S,
) -> Result<S::Value, String> {
    selected().from_slice_seed(bytes, seed)
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::fmt::Debug;

    use super::*;
    use crate::message::{Shape, ShapeMessage};

    /// Whether both codecs write `value` byte for byte alike; when not,
    /// they must write the same JSON value (numbers may be spelled
    /// differently). Either way each reads the other's back to `value`.
    fn alike<T>(value: &T) -> bool
    where
        T: Serialize + for<'a> Deserialize<'a> + PartialEq + Debug,
    {
        let mut serde = Vec::new();
        Codec::SerdeJson.to_writer(&mut serde, value).unwrap();
        let mut sonic = Vec::new();
        Codec::SonicRs.to_writer(&mut sonic, value).unwrap();
        assert_eq!(Codec::SonicRs.from_slice::<T>(&serde).unwrap(), *value);
        assert_eq!(Codec::SerdeJson.from_slice::<T>(&sonic).unwrap(), *value);
        if serde == sonic {
            return true;
        }
        let a: serde_json::Value = serde_json::from_slice(&serde).unwrap();
        let b: serde_json::Value = serde_json::from_slice(&sonic).unwrap();
        assert_eq!(
            a,
            b,
            "{}\n{}",
            String::from_utf8_lossy(&serde),
            String::from_utf8_lossy(&sonic)
        );
        false
    }

    #[test]
    fn both_codecs_write_the_same_json_of_every_message() {
        // The payload, and text JSON must escape.
        for data in [
            "x".repeat(4096),
            "a \"quote\", \\, \n\t\u{1}, é, 😀 </".into(),
        ] {
            let message = crate::DataJson {
                data: Cow::Owned(data),
            };
            let mut serde = Vec::new();
            Codec::SerdeJson.to_writer(&mut serde, &message).unwrap();
            let mut sonic = Vec::new();
            Codec::SonicRs.to_writer(&mut sonic, &message).unwrap();
            assert_eq!(serde, sonic, "{}", String::from_utf8_lossy(&sonic));
        }
        // The pipeline's messages: ids, doubles, timestamps, labels.
        use crate::pipeline::{ProcessedBatch, RecordBatch};
        use crate::pipeline_hop::HopAnswer;
        use crate::pipeline_work as work;
        let records = work::generate(500);
        let processed = work::process(records.clone());
        let summary = work::aggregate(&processed);
        let mut bytewise = vec![
            ("records", alike(&RecordBatch::new(7, records))),
            ("processed", alike(&ProcessedBatch::new(7, processed))),
            ("summary", alike(&summary)),
        ];
        // Every built-in shape, in the canonical proto3 JSON (pbjson).
        for shape in Shape::ALL {
            let same = match ShapeMessage::generate(shape, 3, shape.default_items()) {
                ShapeMessage::Tiny(m) => alike(&m),
                ShapeMessage::Order(m) => alike(&m),
                ShapeMessage::Telemetry(m) => alike(&m),
                ShapeMessage::Text(m) => alike(&m),
                ShapeMessage::Binary(m) => alike(&m),
            };
            bytewise.push((shape.name(), same));
        }
        eprintln!("byte for byte alike: {bytewise:?}");
    }

    #[test]
    fn codecs_are_named_as_on_the_command_line() {
        for codec in Codec::ALL {
            assert_eq!(codec.to_string().parse::<Codec>(), Ok(codec));
        }
        assert!(
            "simd"
                .parse::<Codec>()
                .unwrap_err()
                .contains("serde_json or sonic-rs")
        );
    }
}
