//! Latency histograms in and out of result files: summaries for people,
//! the lossless HdrHistogram V2 encoding (base64) for tools.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};

use crate::model::LatencySummary;

impl LatencySummary {
    pub fn from_histogram(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            min: h.min(),
            mean: h.mean(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(h, &mut bytes)
        .expect("serializing into memory cannot fail");
    STANDARD.encode(bytes)
}

/// A histogram already serialized (HdrHistogram V2), as [`encode`] writes
/// it.
pub fn encode_serialized(v2: &[u8]) -> String {
    STANDARD.encode(v2)
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("histogram is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("histogram is not HdrHistogram V2: {0:?}")]
    Hdr(hdrhistogram::serialization::DeserializeError),
}

pub fn decode(text: &str) -> Result<Histogram<u64>, DecodeError> {
    let bytes = STANDARD.decode(text)?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(DecodeError::Hdr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_values() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in 1..=1000 {
            h.record(v).unwrap();
        }
        let s = LatencySummary::from_histogram(&h);
        assert_eq!(
            (s.min, s.p50, s.p90, s.p99, s.p999, s.max),
            (1, 500, 900, 990, 999, 1000)
        );
        assert!((s.mean - 500.5).abs() < 0.01);
        assert_eq!(
            LatencySummary::from_histogram(&Histogram::new(3).unwrap()),
            LatencySummary::default()
        );
    }

    #[test]
    fn encoding_is_lossless_and_mergeable() {
        let mut a = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        let mut b = a.clone();
        for v in [10, 200, 3000, 40_000, 59_000_000] {
            a.record(v).unwrap();
            b.record(v * 2 % 60_000_000 + 1).unwrap();
        }
        let decoded = decode(&encode(&a)).unwrap();
        assert_eq!(decoded, a);
        let mut merged = decode(&encode(&a)).unwrap();
        merged.add(decode(&encode(&b)).unwrap()).unwrap();
        assert_eq!(merged.len(), 10);
        assert!(decode("not base64!").is_err());
    }
}

/// A hey-style latency histogram: `buckets` equal slices from the fastest
/// to the slowest answer, each a line with its upper bound, its count and
/// a bar scaled to the fullest slice (`width` characters).
pub fn bars(h: &Histogram<u64>, buckets: usize, width: usize) -> Vec<String> {
    if h.is_empty() || buckets == 0 {
        return Vec::new();
    }
    let (low, high) = (h.min(), h.max());
    let span = (high - low).max(1);
    let mut counts = vec![0u64; buckets];
    for v in h.iter_recorded() {
        let value = h.highest_equivalent(v.value_iterated_to()).min(high);
        let index =
            ((value.saturating_sub(low)) as u128 * buckets as u128 / (span as u128 + 1)) as usize;
        counts[index.min(buckets - 1)] += v.count_at_value();
    }
    let most = counts.iter().copied().max().unwrap_or(1).max(1);
    let count_width = crate::format::thousands(most).len();
    counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let upper = low + span * (i as u64 + 1) / buckets as u64;
            let bar = "■".repeat((count as u128 * width as u128 / most as u128) as usize);
            format!(
                "{:>9} [{:>count_width$}] |{bar}",
                crate::format::latency_us(upper),
                crate::format::thousands(count)
            )
        })
        .collect()
}

#[cfg(test)]
mod bar_tests {
    use super::*;

    #[test]
    fn every_answer_lands_in_one_bar_and_the_fullest_is_full_width() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for v in [100, 110, 120, 130, 1_000] {
            h.record(v).unwrap();
        }
        h.record_n(105, 95).unwrap();
        let lines = bars(&h, 10, 40);
        assert_eq!(lines.len(), 10);
        let counted: u64 = lines
            .iter()
            .map(|l| {
                let inside = &l[l.find('[').unwrap() + 1..l.find(']').unwrap()];
                inside.trim().replace(',', "").parse::<u64>().unwrap()
            })
            .sum();
        assert_eq!(counted, 100);
        assert!(lines[0].ends_with(&"■".repeat(40)), "{lines:?}");
        assert!(
            lines[9].contains("1.00 ms") && lines[9].contains("[ 1]"),
            "{lines:?}"
        );
    }
}
