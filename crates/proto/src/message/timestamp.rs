//! `google.protobuf.Timestamp` with the JSON the proto3 mapping asks for:
//! RFC 3339, always "Z"-normalized, with 0, 3, 6 or 9 fractional digits
//! ("2024-01-01T00:00:00.120Z"). pbjson-types writes "+00:00" instead,
//! which conformant parsers read but a byte-for-byte comparison with other
//! implementations (prost-reflect, protobuf's own) would not match.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds and nanoseconds since the Unix epoch, as protobuf has them.
#[derive(Clone, Copy, PartialEq, Eq, Hash, ::prost::Message)]
pub struct Timestamp {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let nanos = u32::try_from(self.nanos)
            .map_err(|_| serde::ser::Error::custom("a Timestamp's nanos are 0..1e9"))?;
        let time = DateTime::<Utc>::from_timestamp(self.seconds, nanos)
            .ok_or_else(|| serde::ser::Error::custom("a Timestamp out of range"))?;
        // AutoSi gives 0, 3, 6 or 9 fractional digits, as the mapping says.
        s.serialize_str(&time.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        let time = DateTime::parse_from_rfc3339(&text)
            .map_err(|err| serde::de::Error::custom(format!("not an RFC 3339 time: {err}")))?;
        Ok(Timestamp {
            seconds: time.timestamp(),
            nanos: time.timestamp_subsec_nanos() as i32,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_is_z_normalized_with_0_3_6_or_9_digits() {
        let json = |seconds, nanos| serde_json::to_string(&Timestamp { seconds, nanos }).unwrap();
        assert_eq!(json(1_704_067_200, 0), "\"2024-01-01T00:00:00Z\"");
        assert_eq!(
            json(1_704_067_200, 120_000_000),
            "\"2024-01-01T00:00:00.120Z\""
        );
        assert_eq!(
            json(1_704_067_200, 1_000),
            "\"2024-01-01T00:00:00.000001Z\""
        );
        assert_eq!(json(1_704_067_200, 7), "\"2024-01-01T00:00:00.000000007Z\"");
        let back: Timestamp = serde_json::from_str("\"2024-01-01T01:00:00.5+01:00\"").unwrap();
        assert_eq!(
            back,
            Timestamp {
                seconds: 1_704_067_200,
                nanos: 500_000_000
            }
        );
    }
}
