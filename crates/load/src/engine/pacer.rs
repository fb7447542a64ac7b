//! The open loop's clock: which slot is due when.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::secs;
use crate::schedule::Schedule;
use crate::shard::Shard;

/// Hands out due times (open loop): at a constant rate, or where a rate
/// schedule's running count reaches each request. A schedule's clock
/// starts with the measured window; the warm-up holds its first rate.
#[derive(Debug)]
pub(super) struct Pacer {
    pub(super) start: Instant,
    /// Slots per second.
    pub(super) rate_per_s: f64,
    /// The schedule, the warm-up's length and how many requests it holds.
    pub(super) schedule: Option<(Schedule, Duration, u64)>,
    /// This agent's next slot, counted among its own.
    pub(super) next_slot: AtomicU64,
    /// A shard sends the slots j with j mod N = I.
    pub(super) shard: Shard,
}

impl Pacer {
    pub(super) fn next_due(&self) -> Instant {
        let slot = self
            .shard
            .global(self.next_slot.fetch_add(1, Ordering::Relaxed));
        match &self.schedule {
            Some((schedule, warmup, warm)) if slot >= *warm => {
                self.start + *warmup + secs(schedule.due_s(slot - warm))
            }
            Some((schedule, _, _)) => self.start + secs(slot as f64 / schedule.at(0.0)),
            // slot / rate, not slot x (1 / rate): R x D slots then fall
            // exactly before the end of a window of D seconds, not one more.
            None => self.start + secs(slot as f64 / self.rate_per_s),
        }
    }
}
