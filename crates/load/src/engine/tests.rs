//! The loop on tokio's paused clock: time moves only when every task
//! waits, so these are exact and take no wall-clock time.

use std::sync::Mutex;

use super::*;
use crate::errors::ErrorKind;
use crate::plan::PlanError;
use crate::schedule::Schedule;
use crate::shard::Shard;

/// A client that answers after `latency` with `bytes` bytes; the
/// `stall_at`-th request (1-based) takes `stall` instead. It remembers
/// when each sender first called.
struct Fake {
    latency: Duration,
    stall_at: Option<(u64, Duration)>,
    calls: AtomicU64,
    first_call: Mutex<Vec<(usize, Instant)>>,
}

const BYTES: u64 = 10;

impl Fake {
    fn answering_in(latency: Duration) -> Arc<Fake> {
        Arc::new(Fake {
            latency,
            stall_at: None,
            calls: AtomicU64::new(0),
            first_call: Mutex::new(Vec::new()),
        })
    }
}

impl Call for Fake {
    async fn call(&self, sender_id: usize, timeout: Duration) -> Result<Answer, RequestFailure> {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        {
            let mut first = self.first_call.lock().unwrap();
            if !first.iter().any(|(id, _)| *id == sender_id) {
                first.push((sender_id, Instant::now()));
            }
        }
        let wait = match self.stall_at {
            Some((at, stall)) if at == n => stall,
            _ => self.latency,
        };
        match tokio::time::timeout(timeout, tokio::time::sleep(wait)).await {
            Ok(()) => Ok(Answer::bytes(BYTES)),
            Err(_) => Err(RequestFailure::new(ErrorKind::Timeout, "timed out")),
        }
    }

    fn wire_bytes(&self) -> WireBytes {
        WireBytes {
            sent: self.calls.load(Ordering::Relaxed),
            received: 0,
        }
    }
}

/// A plan on tokio's paused clock: its open loop is paced by tokio's
/// timer (the precise pacer's thread sleeps in real time).
fn plan(model: LoadModel, stop: StopAt, warmup: Duration) -> LoadPlan {
    LoadPlan::new(model, stop, warmup, Duration::from_secs(1), 1)
        .unwrap()
        .with_pacing(Pacing::Timer)
}

const MS: Duration = Duration::from_millis(1);

#[tokio::test(start_paused = true)]
async fn the_request_budget_is_exact_whatever_the_concurrency() {
    for concurrency in [1, 3, 7, 50] {
        let client = Fake::answering_in(3 * MS);
        let plan = plan(
            LoadModel::Fixed { concurrency },
            StopAt::Requests(100),
            Duration::ZERO,
        );
        let outcome = run(&plan, Arc::clone(&client), std::future::pending()).await;
        assert_eq!(outcome.tally.requests_ok, 100, "-c {concurrency}");
        assert_eq!(outcome.tally.bytes_received, 100 * BYTES);
        assert_eq!(
            client.calls.load(Ordering::Relaxed),
            100,
            "no request past the budget"
        );
        assert!(!outcome.interrupted);
    }
}

#[tokio::test(start_paused = true)]
async fn the_warm_up_is_sent_but_not_counted() {
    let client = Fake::answering_in(10 * MS);
    let plan = plan(
        LoadModel::Fixed { concurrency: 1 },
        StopAt::Duration(Duration::from_secs(1)),
        Duration::from_secs(1),
    );
    let outcome = run(&plan, Arc::clone(&client), std::future::pending()).await;
    // 10 ms each: 100 sent in the warm-up and 100 in the window; the
    // last completes at the window's very end, so it is outside.
    assert_eq!(outcome.tally.requests_ok, 99);
    assert!(client.calls.load(Ordering::Relaxed) >= 200);
    assert_eq!(outcome.measured, Duration::from_secs(1));
    // A short window: ten bins of 100 ms.
    assert_eq!(outcome.timeline.len(), 10);
}

#[tokio::test(start_paused = true)]
async fn skip_first_sends_the_first_requests_of_the_budget_without_tallying_them() {
    let client = Fake::answering_in(MS);
    let plan = plan(
        LoadModel::Fixed { concurrency: 3 },
        StopAt::Requests(100),
        Duration::ZERO,
    )
    .with_skip_first(30)
    .unwrap();
    let outcome = run(&plan, Arc::clone(&client), std::future::pending()).await;
    // ghz's meaning: -n counts them, the tally does not.
    assert_eq!(client.calls.load(Ordering::Relaxed), 100);
    assert_eq!(outcome.tally.requests_ok, 70);
    assert_eq!(outcome.tally.latency_us.len(), 70);
    let every = plan.clone().with_skip_first(100);
    assert!(
        matches!(every, Err(PlanError::SkipsEveryRequest { .. })),
        "{every:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_progress_callback_that_breaks_ends_the_window_there() {
    let client = Fake::answering_in(10 * MS);
    let plan = plan(
        LoadModel::Fixed { concurrency: 1 },
        StopAt::Duration(Duration::from_secs(60)),
        Duration::ZERO,
    );
    let mut seen = 0;
    let outcome = run_observed(&plan, client, std::future::pending(), |p| {
        seen += 1;
        if p.measured_s >= 3.0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .await;
    assert!(outcome.stopped_early && !outcome.interrupted);
    // One-second bins in a long window: stopped at the third.
    assert_eq!(seen, 3);
    assert_eq!(outcome.measured, Duration::from_secs(3));
    // 10 ms each; the one completing at the tick itself is outside.
    assert_eq!(outcome.tally.requests_ok, 299);
}

#[tokio::test(start_paused = true)]
async fn the_open_loop_keeps_its_schedule_and_corrects_for_a_stall() {
    // 100 requests a second for 2 s; the 50th stalls for 300 ms, and
    // one sender only, so the requests due meanwhile wait for it.
    let client = Arc::new(Fake {
        latency: MS,
        stall_at: Some((50, 300 * MS)),
        calls: AtomicU64::new(0),
        first_call: Mutex::new(Vec::new()),
    });
    let plan = plan(
        LoadModel::Rate {
            rate_per_s: 100.0,
            max_in_flight: 1,
        },
        StopAt::Duration(Duration::from_secs(2)),
        Duration::ZERO,
    );
    let outcome = run(&plan, client, std::future::pending()).await;
    // Every slot of the schedule is sent: the stall delays, not drops.
    assert_eq!(outcome.tally.requests_ok, 200);
    let corrected = &outcome.tally.latency_us;
    let uncorrected = outcome.tally.latency_uncorrected_us.as_ref().unwrap();
    // From the intended send time, the requests behind the stall waited
    // up to 300 ms; from the actual send time only the stall itself is.
    assert!(corrected.max() >= 290_000, "{}", corrected.max());
    assert!(corrected.value_at_quantile(0.9) > 50_000);
    assert!(uncorrected.value_at_quantile(0.9) <= 2_000);
    // The slots that fell due during the stall waited for the one sender:
    // the in-flight bound's wait, not the generator's lateness. (The
    // stall ends at 0.791 s with slots 50..=79 due; the sender drains
    // them at 1 ms each, while slots 80..=82 fall due too.)
    let lateness = outcome.tally.lateness_us.as_ref().unwrap();
    assert_eq!(outcome.tally.due_while_busy, 33);
    assert_eq!(lateness.len(), 200 - 33);
    // On the paused clock, a waiting sender wakes exactly at its due time.
    assert_eq!(lateness.max(), 0);
}

#[tokio::test(start_paused = true)]
async fn the_closed_loop_records_no_lateness() {
    let plan = plan(
        LoadModel::Fixed { concurrency: 2 },
        StopAt::Requests(10),
        Duration::ZERO,
    );
    let outcome = run(&plan, Fake::answering_in(MS), std::future::pending()).await;
    assert!(outcome.tally.lateness_us.is_none());
    assert_eq!(outcome.tally.due_while_busy, 0);
}

#[tokio::test(start_paused = true)]
async fn users_start_at_the_spawn_rate() {
    let client = Fake::answering_in(100 * MS);
    let plan = plan(
        LoadModel::Users {
            users: 5,
            spawn_rate_per_s: 2.0,
        },
        StopAt::Duration(Duration::from_secs(4)),
        Duration::ZERO,
    );
    let started = Instant::now();
    run(&plan, Arc::clone(&client), std::future::pending()).await;
    let mut first = client.first_call.lock().unwrap().clone();
    first.sort();
    let offsets: Vec<u128> = first
        .iter()
        .map(|(_, at)| (*at - started).as_millis())
        .collect();
    assert_eq!(offsets, [0, 500, 1000, 1500, 2000]);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_server_cannot_stretch_the_window_and_cancel_keeps_the_counts() {
    // Every request stalls past the 1 s timeout: errors, on time.
    let client = Fake::answering_in(Duration::from_secs(3600));
    let plan = plan(
        LoadModel::Fixed { concurrency: 4 },
        StopAt::Duration(Duration::from_secs(3)),
        Duration::ZERO,
    );
    let started = Instant::now();
    let outcome = run(&plan, client, std::future::pending()).await;
    assert_eq!(started.elapsed(), Duration::from_secs(3));
    assert_eq!(outcome.tally.requests_ok, 0);
    // Timed out at 1 s and 2 s; those at 3 s end with the window.
    assert_eq!(outcome.tally.errors.total(), 8);

    let client = Fake::answering_in(10 * MS);
    let plan = self::plan(
        LoadModel::Fixed { concurrency: 1 },
        StopAt::Duration(Duration::from_secs(60)),
        Duration::ZERO,
    );
    let outcome = run(
        &plan,
        client,
        tokio::time::sleep(Duration::from_millis(505)),
    )
    .await;
    assert!(outcome.interrupted);
    assert_eq!(outcome.measured, Duration::from_millis(505));
    assert_eq!(outcome.tally.requests_ok, 50);
}

/// A server that refuses every connection, at once.
struct Refusing {
    calls: AtomicU64,
}

impl Call for Refusing {
    async fn call(&self, _: usize, _: Duration) -> Result<Answer, RequestFailure> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        Err(RequestFailure::new(
            ErrorKind::Connect,
            "Connection refused (os error 111)",
        ))
    }

    fn wire_bytes(&self) -> WireBytes {
        WireBytes::default()
    }
}

#[tokio::test(start_paused = true)]
async fn a_refusing_server_gets_backoff_not_a_storm() {
    let client = Arc::new(Refusing {
        calls: AtomicU64::new(0),
    });
    let plan = plan(
        LoadModel::Fixed { concurrency: 2 },
        StopAt::Duration(Duration::from_secs(2)),
        Duration::ZERO,
    );
    let outcome = run(&plan, Arc::clone(&client), std::future::pending()).await;
    let calls = client.calls.load(Ordering::Relaxed);
    // The one connection of both senders: 10, 20, 40, 80, 160 ms, then
    // 250 ms apart: 12 attempts in 2 s, not 12 per sender (and without
    // backoff, a refusal that returns at once would spin).
    assert_eq!(calls, 12, "{:?}", outcome.backoff);
    assert_eq!(outcome.tally.errors.total(), calls);
    // Both senders wait out each backoff.
    assert_eq!(outcome.backoff.waits, 2 * calls, "{:?}", outcome.backoff);
    assert_eq!(
        outcome.backoff.waited,
        Duration::from_secs(4),
        "to the window's end"
    );
    assert_eq!(outcome.measured, Duration::from_secs(2), "ends on time");
}

#[tokio::test(start_paused = true)]
async fn a_rate_schedule_steps_up_and_each_step_is_reported() {
    let client = Fake::answering_in(MS);
    let schedule: Schedule = "step,start=100,end=300,step=100,every=1s".parse().unwrap();
    let plan = plan(
        LoadModel::Rate {
            rate_per_s: 300.0,
            max_in_flight: 10,
        },
        StopAt::Duration(Duration::from_secs(3)),
        Duration::ZERO,
    )
    .with_schedule(schedule)
    .unwrap();
    let outcome = run(&plan, Arc::clone(&client), std::future::pending()).await;
    let per_step: Vec<(f64, u64)> = outcome
        .steps
        .iter()
        .map(|s| (s.offered, s.requests_ok))
        .collect();
    assert_eq!(per_step, vec![(100.0, 100), (200.0, 200), (300.0, 300)]);
    assert_eq!(outcome.tally.requests_ok, 600);
    assert_eq!(outcome.steps[2].to_s, 3.0);
}

#[tokio::test(start_paused = true)]
async fn a_concurrency_schedule_wakes_senders_step_by_step() {
    let client = Fake::answering_in(10 * MS);
    let schedule: Schedule = "step,start=1,end=3,step=1,every=1s".parse().unwrap();
    let plan = plan(
        LoadModel::Fixed { concurrency: 3 },
        StopAt::Duration(Duration::from_secs(3)),
        Duration::ZERO,
    )
    .with_schedule(schedule)
    .unwrap();
    let outcome = run(&plan, Arc::clone(&client), std::future::pending()).await;
    let offered: Vec<f64> = outcome.steps.iter().map(|s| s.offered).collect();
    assert_eq!(offered, vec![1.0, 2.0, 3.0]);
    // 10 ms a request: about 100 a second per active sender.
    for (step, senders) in outcome.steps.iter().zip([1u64, 2, 3]) {
        let want = 100 * senders;
        assert!(
            step.requests_ok.abs_diff(want) <= senders,
            "{senders} senders: {step:?}"
        );
    }
    // Sender 2 first called when its step began.
    let first = client.first_call.lock().unwrap().clone();
    let third = first.iter().find(|(id, _)| *id == 2).unwrap().1;
    let began = first.iter().find(|(id, _)| *id == 0).unwrap().1;
    assert_eq!(third - began, Duration::from_secs(2));
}

/// A client that answers at once and notes when each call left, from
/// `base`.
struct Clock {
    base: Instant,
    sent: Mutex<Vec<Duration>>,
}

impl Call for Clock {
    async fn call(&self, _: usize, _: Duration) -> Result<Answer, RequestFailure> {
        self.sent.lock().unwrap().push(self.base.elapsed());
        tokio::time::sleep(MS).await;
        Ok(Answer::bytes(BYTES))
    }

    fn wire_bytes(&self) -> WireBytes {
        WireBytes::default()
    }
}

/// When each request of `plan` left, from the run's start, sorted.
async fn send_times(plan: &LoadPlan) -> Vec<Duration> {
    let client = Arc::new(Clock {
        base: Instant::now(),
        sent: Mutex::new(Vec::new()),
    });
    run(plan, Arc::clone(&client), std::future::pending()).await;
    let mut sent = client.sent.lock().unwrap().clone();
    sent.sort_unstable();
    sent
}

#[tokio::test(start_paused = true)]
async fn the_shards_of_a_plan_send_exactly_its_requests_at_its_times() {
    let window = StopAt::Duration(Duration::from_millis(500));
    let models = [
        // The open loop: 2,000/s for 0.5 s, slots j mod N = I.
        LoadModel::Rate {
            rate_per_s: 2000.0,
            max_in_flight: 64,
        },
        // Users k mod N = I, spawned at their times in the whole plan.
        LoadModel::Users {
            users: 40,
            spawn_rate_per_s: 100.0,
        },
    ];
    for model in models {
        let whole = send_times(&plan(model, window, Duration::ZERO)).await;
        for count in 1..=16 {
            let mut union = Vec::new();
            for index in 0..count {
                let shard = Shard::new(index, count).unwrap();
                let part = plan(model, window, Duration::ZERO).sharded(shard).unwrap();
                let sent = send_times(&part).await;
                if matches!(model, LoadModel::Rate { .. }) {
                    let fair = whole.len() as f64 / f64::from(count);
                    assert!(
                        (sent.len() as f64 - fair).abs() <= 1.0,
                        "{shard}: {} of {}",
                        sent.len(),
                        whole.len()
                    );
                }
                union.extend(sent);
            }
            union.sort_unstable();
            assert_eq!(union, whole, "{model} over {count} agents");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_shards_of_a_count_add_up_to_it() {
    for count in 1..=16u32 {
        let mut total = 0;
        for index in 0..count {
            let client = Fake::answering_in(MS);
            let part = plan(
                LoadModel::Fixed { concurrency: 20 },
                StopAt::Requests(1001),
                Duration::ZERO,
            )
            .sharded(Shard::new(index, count).unwrap())
            .unwrap();
            assert_eq!(part.senders(), 20 / count + u32::from(index < 20 % count));
            let outcome = run(&part, client, std::future::pending()).await;
            total += outcome.tally.requests_ok;
        }
        assert_eq!(total, 1001, "{count} agents");
    }
    let refused = plan(
        LoadModel::Fixed { concurrency: 2 },
        StopAt::Requests(10),
        Duration::ZERO,
    )
    .sharded(Shard::new(2, 3).unwrap());
    assert!(
        matches!(refused, Err(PlanError::EmptyShard { .. })),
        "{refused:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_open_loop_counts_every_request_due_in_its_window() {
    // 100/s for 1 s, answers in 50 ms: the last five are in flight when
    // the window ends, and are counted.
    let client = Fake::answering_in(50 * MS);
    let plan = plan(
        LoadModel::Rate {
            rate_per_s: 100.0,
            max_in_flight: 10,
        },
        StopAt::Duration(Duration::from_secs(1)),
        Duration::ZERO,
    );
    let started = Instant::now();
    let outcome = run(&plan, Arc::clone(&client), std::future::pending()).await;
    assert_eq!(outcome.tally.requests_ok, 100);
    assert_eq!(
        outcome.measured,
        Duration::from_secs(1),
        "the window is the due times'"
    );
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(1040),
        "the last due at 990 ms"
    );

    // A stalled server: every due request ends as a timeout, by the end
    // of the window plus the timeout (1 s) at most.
    let client = Fake::answering_in(Duration::from_secs(3600));
    let started = Instant::now();
    let outcome = run(&plan, client, std::future::pending()).await;
    assert_eq!(outcome.tally.requests_ok, 0);
    // At most 10 in flight: the first 10 time out at 1.0-1.09 s, and the
    // slots due by then are sent as senders free up.
    let errors = outcome.tally.errors.total();
    assert!(errors >= 10, "{errors}");
    assert!(
        started.elapsed() <= Duration::from_millis(2100),
        "{:?}",
        started.elapsed()
    );
}

/// The precise pacer on the real clock: one sender, a client slower than
/// the rate now and then, so slots fall due while the sender is busy.
/// Every slot of the window is still sent and counted: none is stranded
/// when the pacer's thread is done releasing (R x D exactly).
#[tokio::test]
async fn the_precise_pacer_sends_every_slot_of_the_window() {
    let client = Arc::new(Fake {
        latency: Duration::from_micros(200),
        // Near the end: the slots after it fall due after the pacer's
        // thread has released its last one.
        stall_at: Some((290, 30 * MS)),
        calls: AtomicU64::new(0),
        first_call: Mutex::new(Vec::new()),
    });
    let plan = LoadPlan::new(
        LoadModel::Rate {
            rate_per_s: 1000.0,
            max_in_flight: 1,
        },
        StopAt::Duration(Duration::from_millis(300)),
        Duration::ZERO,
        Duration::from_secs(1),
        1,
    )
    .unwrap();
    assert_eq!(plan.pacing(), Pacing::Precise);
    let outcome = run(&plan, Arc::clone(&client), std::future::pending()).await;
    assert_eq!(outcome.tally.requests_ok, 300);
    assert_eq!(
        client.calls.load(Ordering::Relaxed),
        300,
        "none past the window"
    );
    // The stall held the slots due meanwhile for the one sender.
    assert!(
        outcome.tally.due_while_busy >= 5,
        "{}",
        outcome.tally.due_while_busy
    );
    let lateness = outcome.tally.lateness_us.as_ref().unwrap();
    assert_eq!(lateness.len() + outcome.tally.due_while_busy, 300);
}
