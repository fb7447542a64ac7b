//! Where measurements go: a fixed number of shards, each an HDR histogram
//! plus counters behind an uncontended lock. Senders are spread over the
//! shards, so 10,000 users cost 16 histograms, not 10,000, and memory does
//! not grow with the number of requests. Shards are merged exactly at the
//! end; once a second a snapshot gives the timeline (the difference of two
//! snapshots is the last second, exactly, since HDR histograms subtract).

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

// tokio's clock: the engine's tests pause and advance it. Outside tests
// it is std's monotonic clock.
use tokio::time::Instant;

use hdrhistogram::Histogram;

use crate::errors::{ErrorTally, RequestFailure};

/// Latency histograms cover 1 us .. 60 s at 3 significant digits (DESIGN
/// rule 1); slower answers are recorded as 60 s.
pub const LATENCY_LOW_US: u64 = 1;
pub const LATENCY_HIGH_US: u64 = 60_000_000;
pub const LATENCY_SIGFIG: u8 = 3;

/// How many shards senders are spread over.
const SHARDS: usize = 16;

pub fn new_latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(LATENCY_LOW_US, LATENCY_HIGH_US, LATENCY_SIGFIG)
        .expect("static histogram bounds are valid")
}

pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Everything measured in one shard (or, merged, in a whole run).
#[derive(Debug, Clone)]
pub struct Tally {
    pub requests_ok: u64,
    pub bytes_received: u64,
    pub errors: ErrorTally,
    /// Latency of good responses, microseconds. In open loop, measured from
    /// the intended send time (coordinated omission corrected).
    pub latency_us: Histogram<u64>,
    /// Open loop only: latency from the actual send time, as a closed-loop
    /// tool would report it, kept beside the corrected one.
    pub latency_uncorrected_us: Option<Histogram<u64>>,
    /// Open loop only: how late each request left, from its due time to
    /// the moment it was sent, microseconds, for the requests a sender
    /// was waiting for: the load generator's own error.
    pub lateness_us: Option<Histogram<u64>>,
    /// Open loop only: requests whose due time came while every sender
    /// was busy (the in-flight bound was reached); they waited for a
    /// sender, and the corrected latency includes that wait.
    pub due_while_busy: u64,
    /// When the last counted request completed (ends a `-n` window).
    pub last_completion: Option<Instant>,
    /// Streaming calls only: their messages (none for unary calls).
    pub messages: Option<MessageTally>,
    /// A mix ([`crate::mix`]): each call's own tally, in the mix's order
    /// (empty otherwise). The totals above count every call.
    pub calls: Vec<Tally>,
}

/// The messages of good streaming calls.
#[derive(Debug, Clone)]
pub struct MessageTally {
    pub sent: u64,
    pub received: u64,
    /// Each answer message's latency (see
    /// [`crate::StreamAnswer::message_latency`]), microseconds.
    pub latency_us: Histogram<u64>,
}

impl MessageTally {
    fn new() -> Self {
        MessageTally {
            sent: 0,
            received: 0,
            latency_us: new_latency_histogram(),
        }
    }
}

impl Tally {
    pub fn new(open_loop: bool) -> Self {
        Self {
            requests_ok: 0,
            bytes_received: 0,
            errors: ErrorTally::default(),
            latency_us: new_latency_histogram(),
            latency_uncorrected_us: open_loop.then(new_latency_histogram),
            lateness_us: open_loop.then(new_latency_histogram),
            due_while_busy: 0,
            last_completion: None,
            messages: None,
            calls: Vec::new(),
        }
    }

    /// A tally that also keeps `calls` calls apart.
    pub fn with_calls(open_loop: bool, calls: usize) -> Self {
        Self {
            calls: (0..calls).map(|_| Tally::new(open_loop)).collect(),
            ..Self::new(open_loop)
        }
    }

    /// Adds the messages of a good streaming call.
    pub fn record_messages(&mut self, stream: &crate::StreamAnswer) {
        let messages = self.messages.get_or_insert_with(MessageTally::new);
        messages.sent += u64::from(stream.sent);
        messages.received += u64::from(stream.received);
        for latency in &stream.message_latency {
            messages.latency_us.saturating_record(micros(*latency));
        }
    }

    pub fn record_ok(&mut self, latency: Duration, uncorrected: Duration, bytes: u64) {
        self.requests_ok += 1;
        self.bytes_received += bytes;
        self.latency_us.saturating_record(micros(latency));
        if let Some(h) = &mut self.latency_uncorrected_us {
            h.saturating_record(micros(uncorrected));
        }
    }

    /// Notes how an open-loop request left: `Some(lateness)` when a
    /// sender was waiting for its due time, None when it fell due while
    /// every sender was busy.
    pub fn record_send(&mut self, lateness: Option<Duration>) {
        match (lateness, &mut self.lateness_us) {
            (Some(late), Some(h)) => h.saturating_record(micros(late)),
            _ => self.due_while_busy += 1,
        }
    }

    pub fn record_error(&mut self, failure: RequestFailure) {
        self.errors.add(failure);
    }

    /// Notes that a counted request completed at `at`.
    pub fn completed_at(&mut self, at: Instant) {
        self.last_completion = self.last_completion.max(Some(at));
    }

    pub fn merge(&mut self, other: &Tally) {
        self.requests_ok += other.requests_ok;
        self.bytes_received += other.bytes_received;
        self.errors.merge(&other.errors);
        self.last_completion = self.last_completion.max(other.last_completion);
        self.latency_us
            .add(&other.latency_us)
            .expect("histograms share bounds");
        if let (Some(mine), Some(theirs)) = (
            &mut self.latency_uncorrected_us,
            &other.latency_uncorrected_us,
        ) {
            mine.add(theirs).expect("histograms share bounds");
        }
        if let (Some(mine), Some(theirs)) = (&mut self.lateness_us, &other.lateness_us) {
            mine.add(theirs).expect("histograms share bounds");
        }
        self.due_while_busy += other.due_while_busy;
        if self.calls.len() < other.calls.len() {
            let open_loop = self.latency_uncorrected_us.is_some();
            self.calls
                .resize_with(other.calls.len(), || Tally::new(open_loop));
        }
        for (mine, theirs) in self.calls.iter_mut().zip(&other.calls) {
            mine.merge(theirs);
        }
        if let Some(theirs) = &other.messages {
            let mine = self.messages.get_or_insert_with(MessageTally::new);
            mine.sent += theirs.sent;
            mine.received += theirs.received;
            mine.latency_us
                .add(&theirs.latency_us)
                .expect("histograms share bounds");
        }
    }
}

/// The shards of one run.
#[derive(Debug)]
pub struct ShardedTally {
    shards: Box<[Mutex<Tally>]>,
    open_loop: bool,
    calls: usize,
}

impl ShardedTally {
    pub fn new(open_loop: bool) -> Self {
        Self::with_calls(open_loop, 0)
    }

    /// Shards that also keep `calls` calls of a mix apart.
    pub fn with_calls(open_loop: bool, calls: usize) -> Self {
        Self {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Tally::with_calls(open_loop, calls)))
                .collect(),
            open_loop,
            calls,
        }
    }

    /// The shard sender `sender_id` records into.
    pub fn shard(&self, sender_id: usize) -> MutexGuard<'_, Tally> {
        self.shards[sender_id % self.shards.len()]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// All shards merged, as of now.
    pub fn snapshot(&self) -> Tally {
        let mut total = Tally::with_calls(self.open_loop, self.calls);
        for i in 0..self.shards.len() {
            total.merge(&self.shard(i));
        }
        total
    }
}

/// One second of a run: what completed in it.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePoint {
    /// End of the interval, seconds since the measured window began.
    pub t_s: f64,
    pub requests_ok: u64,
    pub errors: u64,
    /// p99 latency of the good responses completed in this interval.
    pub p99_us: u64,
    /// When kept (a sharded run, to be merged exactly): this interval's
    /// latency histogram, HdrHistogram V2 bytes (a few hundred bytes, where
    /// the histogram itself takes 140 KB).
    pub latency_v2: Option<Vec<u8>>,
}

/// Turns successive snapshots into timeline points.
#[derive(Debug)]
pub struct Timeline {
    previous: Tally,
    points: Vec<TimelinePoint>,
    keep_histograms: bool,
}

impl Timeline {
    pub fn new(open_loop: bool) -> Self {
        Self {
            previous: Tally::new(open_loop),
            points: Vec::new(),
            keep_histograms: false,
        }
    }

    /// A timeline whose points keep their interval's histogram.
    pub fn keeping_histograms(open_loop: bool) -> Self {
        Self {
            keep_histograms: true,
            ..Self::new(open_loop)
        }
    }

    /// Adds the interval between the previous snapshot and `now`.
    pub fn push(&mut self, t_s: f64, now: Tally) {
        let mut interval = now.latency_us.clone();
        interval
            .subtract(&self.previous.latency_us)
            .expect("counts only grow between snapshots");
        self.points.push(TimelinePoint {
            t_s,
            requests_ok: now.requests_ok - self.previous.requests_ok,
            errors: now.errors.total() - self.previous.errors.total(),
            p99_us: if interval.is_empty() {
                0
            } else {
                interval.value_at_quantile(0.99)
            },
            latency_v2: self.keep_histograms.then(|| {
                let mut bytes = Vec::new();
                hdrhistogram::serialization::Serializer::serialize(
                    &mut hdrhistogram::serialization::V2Serializer::new(),
                    &interval,
                    &mut bytes,
                )
                .expect("serializing into memory cannot fail");
                bytes
            }),
        });
        self.previous = now;
    }

    /// End of the last interval pushed, seconds since the window began.
    pub fn last_t_s(&self) -> Option<f64> {
        self.points.last().map(|point| point.t_s)
    }

    /// Everything counted up to the last interval pushed.
    pub fn so_far(&self) -> &Tally {
        &self.previous
    }

    pub fn last_point(&self) -> Option<&TimelinePoint> {
        self.points.last()
    }

    pub fn into_points(self) -> Vec<TimelinePoint> {
        self.points
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::ErrorKind;

    #[test]
    fn shards_merge_exactly() {
        let tally = ShardedTally::new(false);
        for i in 0..1000u64 {
            tally
                .shard(i as usize)
                .record_ok(Duration::from_micros(i + 1), Duration::ZERO, 10);
        }
        tally
            .shard(3)
            .record_error(RequestFailure::new(ErrorKind::Timeout, "slow"));
        let total = tally.snapshot();
        assert_eq!(total.requests_ok, 1000);
        assert_eq!(total.bytes_received, 10_000);
        assert_eq!(total.errors.total(), 1);
        assert_eq!(total.latency_us.len(), 1000);
        assert_eq!(total.latency_us.min(), 1);
        assert_eq!(total.latency_us.value_at_quantile(0.5), 500);
        assert!(total.latency_uncorrected_us.is_none());
    }

    #[test]
    fn timeline_points_are_per_interval() {
        let tally = ShardedTally::new(false);
        let mut timeline = Timeline::new(false);
        for _ in 0..100 {
            tally
                .shard(0)
                .record_ok(Duration::from_millis(1), Duration::ZERO, 1);
        }
        timeline.push(1.0, tally.snapshot());
        for _ in 0..10 {
            tally
                .shard(1)
                .record_ok(Duration::from_millis(50), Duration::ZERO, 1);
        }
        tally
            .shard(1)
            .record_error(RequestFailure::new(ErrorKind::Reset, "x"));
        timeline.push(2.0, tally.snapshot());
        let points = timeline.into_points();
        assert_eq!(points.len(), 2);
        assert_eq!((points[0].requests_ok, points[0].errors), (100, 0));
        assert!((999..=1001).contains(&points[0].p99_us));
        assert_eq!((points[1].requests_ok, points[1].errors), (10, 1));
        // The second interval holds only the 50 ms answers.
        assert!((49_950..=50_050).contains(&points[1].p99_us));
    }

    #[test]
    fn over_range_latency_saturates() {
        let mut tally = Tally::new(true);
        tally.record_ok(Duration::from_secs(600), Duration::from_secs(1), 0);
        assert!(tally.latency_us.max() >= LATENCY_HIGH_US);
        assert_eq!(tally.latency_uncorrected_us.unwrap().len(), 1);
    }
}
