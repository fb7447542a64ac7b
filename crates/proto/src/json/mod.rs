//! The JSON codec of every JSON stack (rest, rest-h2, grpc-json, the
//! pipeline's REST services, the message workload's JSON), one per server:
//! `serve --json-codec serde_json|sonic-rs`.
//!
//! serde_json is the ecosystem's default (axum's `Json`), so it stays the
//! default; sonic-rs is the fast one an expert may reach for (SIMD string
//! scanning and escaping). Both serialize the same serde types, so every
//! handler and message is the same whichever serves: the codec is the only
//! difference, and `bench --json-codec serde_json,sonic-rs` makes it a
//! factor of the run.
//!
//! The choice is a server's option, and it reaches the code that encodes
//! through the server's tasks ([`scope`]), not through a process global:
//! tonic's generated services build their codec with `Default`, so a
//! codec cannot be handed to them as a value. Outside any server (the load
//! generator, tests) it is serde_json.

mod codec;

use std::future::Future;

use serde::{Deserialize, Serialize};

pub use codec::Codec;

tokio::task_local! {
    static SCOPED: Codec;
}

/// Runs `work` with `codec` as the JSON codec of everything it encodes
/// and decodes (a server's tasks; the server spawns its tasks in the
/// scope of the task that spawns them).
pub fn scope<F: Future>(codec: Codec, work: F) -> impl Future<Output = F::Output> {
    SCOPED.scope(codec, work)
}

/// The same, for synchronous `work` (a handler on a blocking thread).
pub fn sync_scope<R>(codec: Codec, work: impl FnOnce() -> R) -> R {
    SCOPED.sync_scope(codec, work)
}

/// The JSON codec of the server this runs in: serde_json outside any.
pub fn selected() -> Codec {
    SCOPED.try_with(|codec| *codec).unwrap_or_default()
}

/// Appends `value` as JSON to `out`, with the server's codec.
pub fn to_writer<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), String> {
    selected().to_writer(out, value)
}

/// `value` as JSON, with the server's codec.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    to_writer(&mut out, value)?;
    Ok(out)
}

/// Decodes JSON with the server's codec.
pub fn from_slice<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    selected().from_slice(bytes)
}

/// Decodes JSON through a seed with the server's codec.
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
