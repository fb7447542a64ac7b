//! The pipeline's work, identical in every stack: the producer generates
//! records, the processor normalises and scores them, the aggregator
//! summarises them. Everything is deterministic (synthetic timestamps, no
//! randomness), so a client can compute the expected summary itself and
//! check every answer, and every stack must produce the same checksum.
//! That makes the work part of the contract, which is why it lives here
//! and not in the server crate: the load engine needs it as much as the
//! servers do.

use crate::pipeline::{ProcessedRecord, Record, Summary};

/// Records per request when the request does not say (seed 002's batch).
pub const DEFAULT_RECORDS: u32 = 100;
/// Most records one request may ask for, unless a server is told otherwise.
pub const DEFAULT_MAX_RECORDS: u32 = 100_000;

/// Timestamps start here (2024-01-01T00:00:00Z), one millisecond apart.
const BASE_TIMESTAMP_MS: i64 = 1_704_067_200_000;
const LABELS: [&str; 4] = ["sensor-a", "sensor-b", "sensor-c", "sensor-d"];

/// The producer: `n` records.
pub fn generate(n: u32) -> Vec<Record> {
    (1..=u64::from(n))
        .map(|id| Record {
            id,
            value: ((id * 7919) % 10_007) as f64 / 100.0,
            timestamp_ms: BASE_TIMESTAMP_MS + id as i64,
            label: LABELS[(id % LABELS.len() as u64) as usize].to_owned(),
        })
        .collect()
}

/// The processor: each value normalised to 0..1 over the batch, and scored
/// (normalised value, weighted by label, on a 0..100 scale).
pub fn process(records: Vec<Record>) -> Vec<ProcessedRecord> {
    let min = records
        .iter()
        .map(|r| r.value)
        .fold(f64::INFINITY, f64::min);
    let max = records
        .iter()
        .map(|r| r.value)
        .fold(f64::NEG_INFINITY, f64::max);
    let range = max - min;
    records
        .into_iter()
        .map(|r| {
            let normalized = if range > 0.0 {
                (r.value - min) / range
            } else {
                0.0
            };
            let weight = 1.0 + (r.label.bytes().map(u32::from).sum::<u32>() % 5) as f64 / 10.0;
            ProcessedRecord {
                id: r.id,
                value: r.value,
                timestamp_ms: r.timestamp_ms,
                label: r.label,
                normalized,
                score: normalized * 100.0 * weight,
            }
        })
        .collect()
}

/// The aggregator: count, sum, mean, min and max of the scores, and a
/// checksum over every record.
pub fn aggregate(records: &[ProcessedRecord]) -> Summary {
    let count = records.len() as u64;
    let sum: f64 = records.iter().map(|r| r.score).sum();
    let min = records
        .iter()
        .map(|r| r.score)
        .fold(f64::INFINITY, f64::min);
    let max = records
        .iter()
        .map(|r| r.score)
        .fold(f64::NEG_INFINITY, f64::max);
    Summary {
        count,
        sum,
        mean: if count == 0 { 0.0 } else { sum / count as f64 },
        min: if count == 0 { 0.0 } else { min },
        max: if count == 0 { 0.0 } else { max },
        checksum: format!("{:016x}", checksum(records)),
    }
}

/// What a correct pipeline answers for `n` records.
pub fn expected_summary(n: u32) -> Summary {
    aggregate(&process(generate(n)))
}

/// FNV-1a 64 over (id, score bits) of every record, in order.
fn checksum(records: &[ProcessedRecord]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for r in records {
        for byte in
            r.id.to_le_bytes()
                .into_iter()
                .chain(r.score.to_bits().to_le_bytes())
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_is_deterministic_and_sensible() {
        let records = generate(100);
        assert_eq!(records.len(), 100);
        assert_eq!(records[0].id, 1);
        assert_eq!(generate(100), records);
        let processed = process(records);
        assert!(
            processed
                .iter()
                .all(|r| (0.0..=1.0).contains(&r.normalized))
        );
        let summary = aggregate(&processed);
        assert_eq!(summary.count, 100);
        assert!(summary.min <= summary.mean && summary.mean <= summary.max);
        assert!((summary.sum / 100.0 - summary.mean).abs() < 1e-9);
        assert_eq!(summary, expected_summary(100));
        assert_ne!(
            expected_summary(100).checksum,
            expected_summary(99).checksum
        );
        assert_eq!(expected_summary(0).count, 0);
    }

    #[test]
    fn json_round_trip_keeps_the_checksum() {
        // The REST stack carries records as JSON between services; the
        // answer must still match the gRPC stack's bit for bit.
        let records = generate(500);
        let json = serde_json::to_vec(&records).unwrap();
        let back: Vec<Record> = serde_json::from_slice(&json).unwrap();
        let processed = process(back);
        let json = serde_json::to_vec(&processed).unwrap();
        let back: Vec<ProcessedRecord> = serde_json::from_slice(&json).unwrap();
        assert_eq!(aggregate(&back), expected_summary(500));
    }
}
