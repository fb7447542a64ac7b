//! Every stack under every load model, against real servers on loopback:
//! the answers are verified and counted, and each model keeps its promise
//! (a count is exact, a duration ends on time, an open loop keeps its rate).

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wirebench_load::engine::Call;
use wirebench_load::{Client, LoadModel, StopAt, run};
use wirebench_proto::vocab::Stack;

async fn run_model(
    stack: Stack,
    model: LoadModel,
    stop: StopAt,
) -> (wirebench_load::LoadOutcome, Duration) {
    let server = common::start(stack, 1024).await;
    let target = common::payload_target(stack, server.addr, 4);
    let plan = common::plan(model, stop, stack.default_connections(model.senders()));
    let client = Arc::new(Client::new(&target, plan.connections()).await.unwrap());
    let started = Instant::now();
    let outcome = run(&plan, client, std::future::pending()).await;
    (outcome, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_count_is_exact_on_every_stack() {
    for stack in common::plain_stacks() {
        let (outcome, _) = run_model(
            stack,
            LoadModel::Fixed { concurrency: 8 },
            StopAt::Requests(300),
        )
        .await;
        assert_eq!(outcome.tally.requests_ok, 300, "{stack}");
        assert_eq!(
            outcome.tally.errors.total(),
            0,
            "{stack}: {:?}",
            outcome.tally.errors
        );
        assert_eq!(outcome.tally.latency_us.len(), 300);
        assert_eq!(
            outcome.tally.bytes_received,
            300 * common::received_per_answer(stack, 4),
            "{stack}"
        );
        // Every answer crossed the socket, with whatever framing the stack adds.
        assert!(
            outcome.wire.received >= outcome.tally.bytes_received,
            "{stack}"
        );
        assert!(outcome.wire.sent > 0, "{stack}");
        assert!(!outcome.interrupted);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_duration_ends_on_time_on_every_stack() {
    for stack in common::plain_stacks() {
        let window = Duration::from_millis(1500);
        let (outcome, elapsed) = run_model(
            stack,
            LoadModel::Fixed { concurrency: 4 },
            StopAt::Duration(window),
        )
        .await;
        assert!(outcome.tally.requests_ok > 10, "{stack}");
        assert_eq!(outcome.tally.errors.total(), 0, "{stack}");
        assert_eq!(outcome.measured, window);
        assert!(
            elapsed < window + Duration::from_secs(1),
            "{stack}: took {elapsed:?}"
        );
        // A window under 10 s is binned by 100 ms: fifteen points (the
        // last bin's tick and the window's end race by a hair).
        assert!(
            (14..=16).contains(&outcome.timeline.len()),
            "{stack}: {:?}",
            outcome.timeline
        );
        let in_timeline: u64 = outcome.timeline.iter().map(|p| p.requests_ok).sum();
        assert_eq!(in_timeline, outcome.tally.requests_ok);
    }
}

/// A real client that notes when each sender first called.
struct FirstCalls {
    client: Client,
    first: Mutex<Vec<(usize, Instant)>>,
}

impl Call for FirstCalls {
    async fn call(
        &self,
        sender_id: usize,
        timeout: Duration,
    ) -> Result<wirebench_load::Answer, wirebench_load::RequestFailure> {
        {
            let mut first = self.first.lock().unwrap();
            if !first.iter().any(|(id, _)| *id == sender_id) {
                first.push((sender_id, Instant::now()));
            }
        }
        self.client.call(sender_id, timeout).await
    }

    fn wire_bytes(&self) -> wirebench_load::WireBytes {
        self.client.wire_bytes()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_are_spawned_at_the_spawn_rate() {
    for stack in common::plain_stacks() {
        // 4 users at 2/s: user k first sends k x 0.5 s in (never before;
        // generously, within 0.4 s after), the last within the 2 s window.
        let model = LoadModel::Users {
            users: 4,
            spawn_rate_per_s: 2.0,
        };
        let server = common::start(stack, 1024).await;
        let target = common::payload_target(stack, server.addr, 4);
        let plan = common::plan(
            model,
            StopAt::Duration(Duration::from_secs(2)),
            stack.default_connections(model.senders()),
        );
        let client = Arc::new(FirstCalls {
            client: Client::new(&target, plan.connections()).await.unwrap(),
            first: Mutex::new(Vec::new()),
        });
        let started = Instant::now();
        let outcome = run(&plan, Arc::clone(&client), std::future::pending()).await;
        assert_eq!(outcome.tally.errors.total(), 0, "{stack}");
        let mut first = client.first.lock().unwrap().clone();
        first.sort();
        assert_eq!(first.len(), 4, "{stack}: every user sent");
        for (user, at) in first {
            let at = at.duration_since(started).as_secs_f64();
            let due = user as f64 * 0.5;
            assert!(
                at >= due - 0.001 && at < due + 0.4,
                "{stack}: user {user} first sent at {at:.3} s, due at {due} s"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_keeps_its_rate_and_reports_both_latencies() {
    for stack in common::plain_stacks() {
        let model = LoadModel::Rate {
            rate_per_s: 200.0,
            max_in_flight: 10,
        };
        let (outcome, _) = run_model(stack, model, StopAt::Duration(Duration::from_secs(2))).await;
        let ok = outcome.tally.requests_ok;
        // 400 due; a few at the edges of the window may fall outside.
        assert!((380..=401).contains(&ok), "{stack}: {ok}");
        let uncorrected = outcome.tally.latency_uncorrected_us.as_ref().unwrap();
        assert_eq!(uncorrected.len(), ok);
        // From the intended time is never shorter than from the actual send.
        assert!(
            outcome.tally.latency_us.value_at_quantile(0.5) >= uncorrected.value_at_quantile(0.5)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_latency_includes_queueing_when_the_server_is_slow() {
    // One sender in flight, 2,000 due per second, each answer of 4 MiB
    // taking longer than the 0.5 ms between two: requests queue behind
    // each other, and only the corrected latency shows it.
    let server = common::start(Stack::GRPC, 4096).await;
    let target = common::payload_target(Stack::GRPC, server.addr, 4096);
    let model = LoadModel::Rate {
        rate_per_s: 2000.0,
        max_in_flight: 1,
    };
    let plan = common::plan(model, StopAt::Duration(Duration::from_secs(1)), 1);
    let client = Arc::new(Client::new(&target, 1).await.unwrap());
    let outcome = run(&plan, client, std::future::pending()).await;
    let corrected = outcome.tally.latency_us.value_at_quantile(0.9);
    let uncorrected = outcome
        .tally
        .latency_uncorrected_us
        .unwrap()
        .value_at_quantile(0.9);
    assert!(
        corrected > 2 * uncorrected,
        "corrected {corrected} us, uncorrected {uncorrected} us"
    );
}
