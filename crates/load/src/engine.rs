//! The one load loop.
//!
//! A run has `senders` tasks (users, concurrency, or the in-flight bound of
//! the open loop). Each sender loops: wait until it may send (the load
//! model's only say), send, verify, record. The model differs only in when
//! senders start (Locust's spawn rate) and whether a pacer hands out due
//! times (open loop); `-n` is a shared budget of measured requests.
//!
//! The run ends on time whatever the server does: at the end of the window
//! every sender is aborted, and requests still in flight are not counted
//! (their latency is unknown, and counting them late would stretch the
//! window). The open loop is the exception: its plan is its due times, so
//! the requests due in the window and still in flight at its end are
//! waited for, each at most the request timeout, and counted (ok, or a
//! timeout error): R x D due requests are R x D answers or errors, and the
//! slowest are not left out of the tail.
//!
//! The open loop's due times reach the senders on time (`engine/pacer.rs`: a
//! thread on the kernel's high-resolution timer), and each request's
//! lateness (sent minus due) is recorded: the generator's own error, kept
//! apart from the latency it would otherwise inflate.
//!
//! Requests sent during the warm-up are sent and checked but not recorded.
//! Cancellation (Ctrl-C) is a parameter; the outcome then holds everything
//! measured so far and says it was interrupted.
//!
//! Do no harm: a sender whose connection attempt failed (refused, say: a
//! dead server) waits before trying again, 10 ms doubling to 250 ms, and
//! starts over after its next success; the outcome counts the waits. A
//! dead server then gets at most four attempts a second per sender, not
//! tens of thousands from one agent.
//!
//! The loop knows a client only through [`Call`] and time only through
//! tokio's clock (the precise pacer's thread aside: tests choose
//! [`Pacing::Timer`]), so its tests run on a paused clock with a client
//! that is a few lines of code: no sockets, no waiting.

use std::future::Future;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::{Instant, MissedTickBehavior, sleep_until};
use wirebench_proto::vocab::{LoadModel, StopAt};

use crate::client::{Answer, Client, WireBytes};
use crate::errors::{ErrorKind, RequestFailure};
use crate::plan::LoadPlan;
use crate::schedule::Schedule;
use crate::stats::{ShardedTally, Tally, Timeline, TimelinePoint};
use connect_gate::ConnectGates;
pub use pacer::Pacing;
use pacer::{Pacer, Release};

/// What the loop needs of a client: one verified request on sender
/// `sender_id`'s connection, and the bytes its sockets carried.
pub trait Call: Send + Sync + 'static {
    /// Sends one request (one call, streaming or not) and checks its
    /// answer.
    fn call(
        &self,
        sender_id: usize,
        timeout: Duration,
    ) -> impl Future<Output = Result<Answer, RequestFailure>> + Send;
    fn wire_bytes(&self) -> WireBytes;

    /// A mix of calls ([`crate::mix`]): their names and weights; the
    /// engine then picks each request's call and tallies each apart.
    fn mix(&self) -> Option<&crate::weights::Weights> {
        None
    }

    /// Sends call `pick` of the mix (of a client without one, its one
    /// call).
    fn call_picked(
        &self,
        pick: usize,
        sender_id: usize,
        timeout: Duration,
    ) -> impl Future<Output = Result<Answer, RequestFailure>> + Send {
        let _ = pick;
        self.call(sender_id, timeout)
    }

    /// A mix: the bytes each call's sockets carried (empty otherwise).
    fn wire_bytes_each(&self) -> Vec<WireBytes> {
        Vec::new()
    }
}

impl Call for Client {
    fn call(
        &self,
        sender_id: usize,
        timeout: Duration,
    ) -> impl Future<Output = Result<Answer, RequestFailure>> + Send {
        Client::call(self, sender_id, timeout)
    }

    fn wire_bytes(&self) -> WireBytes {
        Client::wire_bytes(self)
    }
}

/// What one run measured.
#[derive(Debug)]
pub struct LoadOutcome {
    /// Everything counted in the measured window, all senders merged.
    pub tally: Tally,
    /// One point per second of the measured window (the last may be shorter).
    pub timeline: Vec<TimelinePoint>,
    /// Length of the measured window: the duration asked for, or until the
    /// last of `-n` requests completed, or until the run was interrupted.
    pub measured: Duration,
    /// True when `cancel` ended the run early.
    pub interrupted: bool,
    /// True when the progress callback stopped the run (a threshold lost
    /// with `--abort-on-fail`): the window ends there, as when interrupted,
    /// but the run goes on to its result.
    pub stopped_early: bool,
    /// Bytes that crossed the client's sockets during the measured window
    /// (headers, framing and TLS included), both directions.
    pub wire: WireBytes,
    /// How often senders waited after a failed connection attempt, and
    /// for how long in all (warm-up included).
    pub backoff: Backoff,
    /// With a schedule: each of its steps in the measured window.
    pub steps: Vec<StepPoint>,
    /// A mix: each call's name and the bytes its sockets carried in the
    /// measured window (its counts are `tally.calls`).
    pub calls: Vec<(String, WireBytes)>,
}

/// One step of a schedule, within the measured window: what was offered
/// (a rate, or a concurrency) and what came back.
#[derive(Debug, Clone, PartialEq)]
pub struct StepPoint {
    /// Seconds since the measured window began.
    pub from_s: f64,
    pub to_s: f64,
    /// The schedule's value when the step began.
    pub offered: f64,
    pub requests_ok: u64,
    pub errors: u64,
    pub p99_us: u64,
}

/// The first wait after a failed connection attempt; each further failure
/// doubles it, up to [`BACKOFF_MAX`].
pub const BACKOFF_FIRST: Duration = Duration::from_millis(10);
pub const BACKOFF_MAX: Duration = Duration::from_millis(250);
/// The open loop waits for the requests of its window still in flight at
/// its end: at most the request timeout and this.
const DRAIN_GRACE: Duration = Duration::from_millis(100);

/// Waits after failed connection attempts, all senders together.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Backoff {
    /// Calls that failed to connect (warm-up included).
    pub failed_attempts: u64,
    pub waits: u64,
    pub waited: Duration,
}

impl LoadOutcome {
    /// Good responses per second over the measured window.
    pub fn throughput_rps(&self) -> f64 {
        rate(self.tally.requests_ok, self.measured)
    }
}

pub fn rate(count: u64, window: Duration) -> f64 {
    if window.is_zero() {
        0.0
    } else {
        count as f64 / window.as_secs_f64()
    }
}

struct Shared<C> {
    client: Arc<C>,
    /// Closed loop with a concurrency schedule: which senders send when.
    concurrency: Option<Schedule>,
    timeout: Duration,
    measure_start: Instant,
    /// End of the window when the run stops at a duration.
    deadline: Option<Instant>,
    /// Measured requests left to send when the run stops at a count.
    budget: Option<AtomicU64>,
    /// `--skip-first`: how many of the window's first requests go
    /// untallied, and how many of the window's requests have started.
    skip_first: u64,
    skipped: AtomicU64,
    pacer: Option<Arc<Pacer>>,
    /// The precise release of the pacer's slots (see [`pacer`]); None
    /// with [`Pacing::Timer`] or in the closed loop.
    release: Option<Release>,
    tally: ShardedTally,
    /// The client's wire counters when the first measured request left:
    /// where the window opens for bytes on the wire.
    wire_at_start: OnceLock<WireBytes>,
    /// The same, call by call, for a mix.
    wire_each_at_start: OnceLock<Vec<WireBytes>>,
    /// A mix: requests picked so far by this agent (the plan's number of
    /// the next is [`crate::Shard::global`] of it).
    picked: AtomicU64,
    /// Each connection's backoff after failed connection attempts.
    gates: ConnectGates,
    /// Waits after failed connection attempts: how many, and microseconds.
    backoff_waits: AtomicU64,
    backoff_us: AtomicU64,
    /// Calls that failed to connect.
    failed_connects: AtomicU64,
    /// The part of the plan this agent runs: a mix's picks are the whole
    /// plan's.
    shard: crate::shard::Shard,
}

impl<C> Shared<C> {
    fn past_deadline(&self, at: Instant) -> bool {
        self.deadline.is_some_and(|deadline| at >= deadline)
    }

    /// Waits for the pacer's next due slot; None when no more will come
    /// in the window.
    async fn due_slot(&self, pacer: &Pacer) -> Option<Slot> {
        let waiting_since = Instant::now();
        let due = match &self.release {
            Some(release) => {
                if !release.take().await {
                    return None;
                }
                let due = pacer.claim();
                if self.past_deadline(due) {
                    return None;
                }
                Release::until(due).await;
                due
            }
            None => {
                let due = pacer.claim();
                if self.past_deadline(due) {
                    return None;
                }
                sleep_until(due).await;
                due
            }
        };
        Some(Slot {
            due,
            waiting: waiting_since <= due,
        })
    }

    /// Claims one request of the `-n` budget; false when it is spent.
    fn claim(&self) -> bool {
        match &self.budget {
            None => true,
            Some(left) => left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok(),
        }
    }
}

/// An open-loop slot a sender took.
#[derive(Debug, Clone, Copy)]
struct Slot {
    due: Instant,
    /// The sender was waiting before the slot fell due (so how late it
    /// sent is the generator's doing).
    waiting: bool,
}

/// Where a run is, once a second of the measured window.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// Seconds since the measured window began.
    pub measured_s: f64,
    pub requests_ok: u64,
    pub errors: u64,
    /// The timeline's bin: what "recent" spans (1 s, or 100 ms in a
    /// window under [`LONG_WINDOW`] or counted in requests).
    pub bin: Duration,
    /// Good responses in the last bin.
    pub recent_ok: u64,
    /// p99 latency of the good responses of the last bin, microseconds.
    pub recent_p99_us: u64,
    /// Everything the measured window has counted so far: its latency
    /// histogram and its errors by kind (a live view's percentiles, and
    /// what `--abort-on-fail` judges).
    pub so_far: &'a Tally,
}

impl Progress<'_> {
    /// Good responses per second over the last bin.
    pub fn recent_rps(&self) -> f64 {
        self.recent_ok as f64 / self.bin.as_secs_f64().max(1e-9)
    }
}

/// Runs `plan` with `client` until the window ends or `cancel` completes.
pub async fn run<C: Call>(
    plan: &LoadPlan,
    client: Arc<C>,
    cancel: impl Future<Output = ()>,
) -> LoadOutcome {
    run_observed(plan, client, cancel, |_| ControlFlow::Continue(())).await
}

/// [`run`], calling `on_progress` once per timeline bin of the measured
/// window ([`timeline_bin`]); when it answers `Break`, the measured window
/// ends there ([`LoadOutcome::stopped_early`]).
/// Progress comes from the timeline's snapshot, so it costs the senders
/// nothing.
pub async fn run_observed<C: Call>(
    plan: &LoadPlan,
    client: Arc<C>,
    cancel: impl Future<Output = ()>,
    mut on_progress: impl FnMut(Progress<'_>) -> ControlFlow<()>,
) -> LoadOutcome {
    let model = plan.model();
    let open_loop = matches!(model, LoadModel::Rate { .. });
    // The precise open loop's first slot is due once its senders and the
    // pacer thread have started, not before: else the first requests are
    // late by the set-up itself.
    let start = Instant::now()
        + match (open_loop, plan.pacing()) {
            (true, Pacing::Precise) => pacer::SET_UP,
            _ => Duration::ZERO,
        };
    let measure_start = start + plan.warmup();
    let schedule = plan.schedule();
    let deadline = match plan.stop() {
        StopAt::Duration(window) => Some(measure_start + window),
        StopAt::Requests(_) => None,
    };
    let pacer = match model {
        LoadModel::Rate { rate_per_s, .. } => Some(Arc::new(Pacer {
            start,
            rate_per_s,
            schedule: schedule.map(|s| {
                let warm = (s.at(0.0) * plan.warmup().as_secs_f64()).ceil() as u64;
                (s, plan.warmup(), warm)
            }),
            next_slot: AtomicU64::new(0),
            shard: plan.shard(),
        })),
        _ => None,
    };
    let release = match (&pacer, plan.pacing()) {
        (Some(pacer), Pacing::Precise) => Some(
            Release::start(Arc::clone(pacer), deadline, plan.senders() as usize)
                .expect("cannot start the pacer thread"),
        ),
        _ => None,
    };
    let mix_calls = client.mix().map_or(0, |mix| mix.len());
    let shared = Arc::new(Shared {
        client,
        concurrency: schedule.filter(|_| !open_loop),
        timeout: plan.timeout(),
        measure_start,
        deadline,
        budget: plan.requests().map(AtomicU64::new),
        skip_first: plan.skip_first(),
        skipped: AtomicU64::new(0),
        pacer,
        release,
        tally: ShardedTally::with_calls(open_loop, mix_calls),
        wire_at_start: OnceLock::new(),
        wire_each_at_start: OnceLock::new(),
        picked: AtomicU64::new(0),
        shard: plan.shard(),
        gates: ConnectGates::new(plan.connections() as usize),
        backoff_waits: AtomicU64::new(0),
        failed_connects: AtomicU64::new(0),
        backoff_us: AtomicU64::new(0),
    });

    let mut senders = JoinSet::new();
    for id in 0..plan.senders() as usize {
        // The plan's number of this sender: a shard runs users k with k
        // mod N = I, at their times in the whole plan.
        let global = plan.shard().global(id as u64);
        let starts_at = match model {
            LoadModel::Users {
                spawn_rate_per_s, ..
            } => start + Duration::from_secs_f64(global as f64 / spawn_rate_per_s),
            _ => start,
        };
        senders.spawn(sender(id, global as usize, Arc::clone(&shared), starts_at));
    }

    // A shard's seconds are merged with the other agents' (`wirebench
    // merge`): each keeps its histogram.
    let mut timeline = if plan.shard().is_whole() {
        Timeline::new(open_loop)
    } else {
        Timeline::keeping_histograms(open_loop)
    };
    let bin = timeline_bin(plan.stop());
    let mut ticks = tokio::time::interval_at(measure_start + bin, bin);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let window_end = async {
        match shared.deadline {
            Some(deadline) => sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(window_end, cancel);
    let mut interrupted = false;
    let mut stopped_early = false;
    // A schedule's steps, as ends in seconds of the measured window.
    let mut step_ends: std::collections::VecDeque<f64> = schedule
        .map(|s| s.boundaries(f64::INFINITY))
        .unwrap_or_default()
        .into_iter()
        .filter(|b| *b > 1e-9)
        .collect();
    let mut step_timeline = Timeline::new(open_loop);
    let mut steps: Vec<StepPoint> = Vec::new();
    let mut step_from = 0.0;
    loop {
        let next_step = step_ends.front().copied();
        tokio::select! {
            biased;
            () = &mut cancel => {
                interrupted = true;
                break;
            }
            () = &mut window_end => break,
            () = sleep_until(measure_start + secs(next_step.unwrap_or(0.0))), if next_step.is_some() => {
                let to = step_ends.pop_front().expect("checked above");
                step_timeline.push(to, shared.tally.snapshot());
                steps.push(step_point(schedule, step_from, to, &step_timeline));
                step_from = to;
            }
            joined = senders.join_next() => match joined {
                // Every sender finished: the `-n` budget is spent.
                None => break,
                Some(Err(err)) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Some(_) => {}
            },
            tick = ticks.tick() => {
                let t_s = tick.saturating_duration_since(measure_start).as_secs_f64();
                timeline.push(t_s, shared.tally.snapshot());
                let so_far = timeline.so_far();
                let last = timeline.last_point();
                let flow = on_progress(Progress {
                    measured_s: t_s,
                    requests_ok: so_far.requests_ok,
                    errors: so_far.errors.total(),
                    bin,
                    recent_ok: last.map_or(0, |p| p.requests_ok),
                    recent_p99_us: last.map_or(0, |p| p.p99_us),
                    so_far,
                });
                if flow.is_break() {
                    stopped_early = true;
                    break;
                }
            }
        }
    }
    if open_loop && shared.deadline.is_some() && !interrupted && !stopped_early {
        // The open loop's plan is its due times: a request due in the
        // window is counted however late it completes (dropping the last
        // slow ones would hide the tail), so the run waits for those in
        // flight, each bounded by the timeout.
        let drain = async { while senders.join_next().await.is_some() {} };
        tokio::select! {
            biased;
            () = &mut cancel => interrupted = true,
            _ = tokio::time::timeout(plan.timeout() + DRAIN_GRACE, drain) => {}
        }
    }
    let stopped = Instant::now();
    let now = shared.client.wire_bytes();
    let wire = now.since(shared.wire_at_start.get().copied().unwrap_or(now));
    let calls = match shared.client.mix() {
        Some(mix) => {
            let now = shared.client.wire_bytes_each();
            let start = shared.wire_each_at_start.get().unwrap_or(&now);
            mix.names()
                .iter()
                .zip(now.iter().zip(start))
                .map(|(name, (now, start))| (name.clone(), now.since(*start)))
                .collect()
        }
        None => Vec::new(),
    };
    senders.shutdown().await;

    let tally = shared.tally.snapshot();
    let window_end = match (shared.deadline, interrupted) {
        _ if stopped_early => stopped,
        (Some(deadline), false) => deadline,
        (None, false) => tally.last_completion.unwrap_or(stopped),
        (_, true) => stopped,
    };
    let measured = window_end.saturating_duration_since(measure_start);
    if schedule.is_some() && measured.as_secs_f64() - step_from > 0.001 {
        step_timeline.push(measured.as_secs_f64(), tally.clone());
        steps.push(step_point(
            schedule,
            step_from,
            measured.as_secs_f64(),
            &step_timeline,
        ));
    }
    let last_tick_s = timeline_end(&timeline);
    if measured.as_secs_f64() - last_tick_s > 0.001 {
        timeline.push(measured.as_secs_f64(), tally.clone());
    }
    LoadOutcome {
        tally,
        timeline: timeline.into_points(),
        measured,
        interrupted,
        stopped_early,
        wire,
        backoff: Backoff {
            failed_attempts: shared.failed_connects.load(Ordering::Relaxed),
            waits: shared.backoff_waits.load(Ordering::Relaxed),
            waited: Duration::from_micros(shared.backoff_us.load(Ordering::Relaxed)),
        },
        steps,
        calls,
    }
}

/// The step from `from_s` to `to_s` (measured seconds), whose counts are
/// `timeline`'s last point.
fn step_point(
    schedule: Option<Schedule>,
    from_s: f64,
    to_s: f64,
    timeline: &Timeline,
) -> StepPoint {
    let point = timeline.last_point().expect("pushed just before");
    StepPoint {
        from_s,
        to_s,
        offered: schedule.map_or(0.0, |s| s.at(from_s)),
        requests_ok: point.requests_ok,
        errors: point.errors,
        p99_us: point.p99_us,
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

fn timeline_end(timeline: &Timeline) -> f64 {
    timeline.last_t_s().unwrap_or(0.0)
}

/// One sender: wait until it may send, send, record; until the run ends.
/// `id` picks its connection; `global` is its number in the whole plan
/// (the same, unless the plan is sharded), which a concurrency schedule
/// reads.
async fn sender<C: Call>(id: usize, global: usize, shared: Arc<Shared<C>>, starts_at: Instant) {
    sleep_until(starts_at).await;
    loop {
        let slot = match &shared.pacer {
            Some(pacer) => match shared.due_slot(pacer).await {
                Some(slot) => Some(slot),
                None => return,
            },
            None => None,
        };
        let due = slot.map(|s| s.due);
        if let Some(schedule) = &shared.concurrency {
            // The schedule's clock starts with the measured window.
            let t = Instant::now()
                .saturating_duration_since(shared.measure_start)
                .as_secs_f64();
            if !schedule.active(global, t) {
                match schedule.next_active(global, t) {
                    Some(at) if !shared.past_deadline(shared.measure_start + secs(at)) => {
                        sleep_until(shared.measure_start + secs(at)).await;
                        continue;
                    }
                    _ => return,
                }
            }
        }
        // A connection that fails to connect is tried by one sender at
        // a time, after its backoff; the others wait here.
        let mut gated = false;
        let probe = loop {
            match shared.gates.pass(id, Instant::now()) {
                connect_gate::Pass::Go { probe } => break probe,
                connect_gate::Pass::WaitUntil(at) => {
                    let now = Instant::now();
                    if shared.past_deadline(now) {
                        // A slot of the window whose connection is still
                        // down when the window has closed: it failed to
                        // connect, without one more attempt.
                        if due.is_some_and(|due| due >= shared.measure_start) && shared.claim() {
                            let mut shard = shared.tally.shard(id);
                            shard.record_send(None);
                            shard.record_error(RequestFailure::new(
                                ErrorKind::Connect,
                                "the connection was still failing to connect when the window closed",
                            ));
                            shard.completed_at(now);
                        }
                        return;
                    }
                    let until = shared.deadline.map_or(at, |end| end.min(at));
                    let waited = until.saturating_duration_since(now);
                    shared.backoff_waits.fetch_add(1, Ordering::Relaxed);
                    shared
                        .backoff_us
                        .fetch_add(waited.as_micros() as u64, Ordering::Relaxed);
                    sleep_until(until).await;
                    gated = true;
                    if due.is_none() && shared.past_deadline(Instant::now()) {
                        return;
                    }
                }
            }
        };
        let sent = Instant::now();
        // The open loop sends what fell due in the window, even late.
        if due.is_none() && shared.past_deadline(sent) {
            if probe {
                shared.gates.settle(id, true, true, sent);
            }
            return;
        }
        let measured = due.unwrap_or(sent) >= shared.measure_start;
        if measured && !shared.claim() {
            if probe {
                shared.gates.settle(id, true, true, sent);
            }
            return;
        }
        // ghz's --skipFirst: the window's first requests are sent and
        // checked, not tallied.
        let skipped = measured
            && shared.skip_first > 0
            && shared.skipped.fetch_add(1, Ordering::Relaxed) < shared.skip_first;
        let measured = measured && !skipped;
        if measured {
            // One atomic load once set; requests of the warm-up still in
            // flight here add a little to the window's bytes.
            shared
                .wire_at_start
                .get_or_init(|| shared.client.wire_bytes());
            shared
                .wire_each_at_start
                .get_or_init(|| shared.client.wire_bytes_each());
        }
        let pick = shared.client.mix().map(|mix| {
            let local = shared.picked.fetch_add(1, Ordering::Relaxed);
            mix.pick(shared.shard.global(local))
        });
        let result = shared
            .client
            .call_picked(pick.unwrap_or(0), id, shared.timeout)
            .await;
        let done = Instant::now();
        let connect_failed = matches!(&result, Err(f) if f.kind == ErrorKind::Connect);
        if connect_failed {
            shared.failed_connects.fetch_add(1, Ordering::Relaxed);
        }
        shared.gates.settle(id, probe, connect_failed, done);
        // Completed after the window closed: outside the measurement,
        // except in the open loop, whose window is one of due times.
        let late = due.is_none() && shared.past_deadline(done);
        if measured && !late {
            let mut shard = shared.tally.shard(id);
            // The generator's own error: how late a waiting sender sent.
            // A slot that fell due while every sender was busy waited for
            // the in-flight bound, and one whose connection was backing
            // off for the server, not for the generator.
            let lateness = slot.map(|slot| {
                (slot.waiting && !gated).then(|| sent.saturating_duration_since(slot.due))
            });
            let record = |tally: &mut Tally, result: Result<&Answer, RequestFailure>| {
                if let Some(lateness) = lateness {
                    tally.record_send(lateness);
                }
                match result {
                    Ok(answer) => {
                        tally.record_ok(done - due.unwrap_or(sent), done - sent, answer.bytes);
                        if let Some(stream) = &answer.stream {
                            tally.record_messages(stream);
                        }
                    }
                    Err(failure) => tally.record_error(failure),
                }
                tally.completed_at(done);
            };
            if let Some(call) = pick.and_then(|pick| shard.calls.get_mut(pick)) {
                record(call, result.as_ref().map_err(Clone::clone));
            }
            match result {
                Ok(answer) => record(&mut shard, Ok(&answer)),
                Err(failure) => record(&mut shard, Err(failure)),
            }
        }
        if late {
            return;
        }
    }
}

/// The timeline's bin: a second, or a tenth of one when the window is
/// shorter than [`LONG_WINDOW`] or ends at a count (a 3 s run is thirty
/// points, not three). Every agent of a sharded plan picks the same bin,
/// so their timelines merge point by point.
pub fn timeline_bin(stop: StopAt) -> Duration {
    match stop {
        StopAt::Duration(window) if window >= LONG_WINDOW => Duration::from_secs(1),
        _ => Duration::from_millis(100),
    }
}

/// From this window on, the timeline is binned by the second.
pub const LONG_WINDOW: Duration = Duration::from_secs(10);

mod connect_gate;
pub(crate) mod pacer;
#[cfg(test)]
mod tests;
