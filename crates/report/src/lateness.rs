//! When the load generator's own lateness matters (DESIGN rule 3).
//!
//! In the open loop a request's latency runs from its due time, so a
//! request the generator sent late carries its lateness into the figure
//! charged to the server. The rule, in one place: a trial's lateness is
//! *material* when, at the median or at p99, it is at least
//! [`MATERIAL_SHARE`] of the corrected latency and more than
//! [`MATERIAL_FLOOR_US`]. Then the trial's notes say the generator was
//! late and by how much, the verdict does not rank stacks on that
//! latency, and a capacity search names the load generator, not the
//! server, as the limit.

use crate::format;
use crate::model::Trial;

/// Lateness this share of the corrected latency or more is material.
pub const MATERIAL_SHARE: f64 = 0.10;
/// Lateness at or below this is never material (microseconds): the
/// clock's own noise.
pub const MATERIAL_FLOOR_US: u64 = 20;

/// "p50 1.28 ms, p99 1.9 ms, max 3 ms after the due time; corrected
/// latency p50 1.4 ms, p99 2.5 ms": Some when `trial`'s lateness is
/// material.
pub fn material(trial: &Trial) -> Option<String> {
    let late = trial.send_lateness.as_ref()?;
    let l = &late.lateness_us;
    let c = &trial.latency_us;
    let share = |lateness: u64, latency: u64| {
        lateness > MATERIAL_FLOOR_US && lateness as f64 >= MATERIAL_SHARE * latency as f64
    };
    (share(l.p50, c.p50) || share(l.p99, c.p99)).then(|| {
        format!(
            "p50 {}, p99 {}, max {} after the due time; corrected latency p50 {}, p99 {}",
            format::latency_us(l.p50),
            format::latency_us(l.p99),
            format::latency_us(l.max),
            format::latency_us(c.p50),
            format::latency_us(c.p99),
        )
    })
}

/// "812 of 4,000 requests (20%)": Some when more than a tenth of the
/// open loop's requests fell due while every sender was busy. Their wait
/// for a sender is in the corrected latency, as it should be when the
/// server is the bottleneck; when the load generator is (client-bound), it
/// is the generator's.
pub fn behind(trial: &Trial) -> Option<String> {
    let late = trial.send_lateness.as_ref()?;
    let requests = trial.requests_ok + trial.errors_total();
    (late.due_while_busy * 10 > requests).then(|| {
        format!(
            "{} of {} requests ({:.0}%) fell due while all {} senders were busy",
            format::thousands(late.due_while_busy),
            format::thousands(requests),
            late.due_while_busy as f64 * 100.0 / requests.max(1) as f64,
            match trial.model {
                wirebench_proto::vocab::LoadModel::Rate { max_in_flight, .. } => max_in_flight,
                _ => 0,
            }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{LatencySummary, SendLateness};

    fn trial(lateness_p50: u64, lateness_p99: u64, p50: u64, p99: u64) -> Trial {
        let mut trial = crate::model::tests::trial_fixture();
        trial.latency_us = LatencySummary {
            p50,
            p99,
            ..Default::default()
        };
        trial.send_lateness = Some(SendLateness {
            pacing: "precise".into(),
            lateness_us: LatencySummary {
                p50: lateness_p50,
                p99: lateness_p99,
                ..Default::default()
            },
            histogram: String::new(),
            due_while_busy: 0,
        });
        trial
    }

    #[test]
    fn lateness_is_material_at_a_tenth_of_the_latency_above_the_floor() {
        // tokio's timer: 1.3 ms late on a 1.5 ms latency.
        assert!(material(&trial(1_300, 1_900, 1_500, 2_500)).is_some());
        // On time: 15 us late on 200 us.
        assert!(material(&trial(15, 40, 200, 900)).is_none());
        // A tail that is the generator's: p99 late by 30% of p99.
        assert!(material(&trial(5, 300, 200, 1_000)).is_some());
        // Under the floor, whatever the share: 18 us on 50 us.
        assert!(material(&trial(18, 19, 50, 60)).is_none());
        // Just under a tenth.
        assert!(material(&trial(99, 99, 1_000, 1_000)).is_none());
        assert!(material(&trial(100, 100, 1_000, 1_000)).is_some());
    }

    #[test]
    fn the_closed_loop_is_never_late() {
        let mut t = trial(1_000, 1_000, 1_000, 1_000);
        t.send_lateness = None;
        assert!(material(&t).is_none());
    }
}
