//! The engine against servers that misbehave: wrong answers are errors of
//! kind wrong_body, a dead server gives errors by kind, a stalled server
//! gives timeouts, and every run still ends on time.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use tokio::net::TcpListener;
use wirebench_load::{Client, ErrorKind, LoadModel, LoadPlan, StopAt, run};
use wirebench_proto::vocab::Stack;

async fn serve_router(router: Router) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_size_bodies_are_counted_as_errors() {
    // Asked for 2 KiB, answers 1 KiB; every other answer is right.
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let router = Router::new().route(
        "/payload",
        get(move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let len = if n.is_multiple_of(2) { 1024 } else { 2048 };
            async move { format!("{{\"data\":\"{}\"}}", "x".repeat(len)) }
        }),
    );
    let addr = serve_router(router).await;
    let target = common::payload_target(Stack::REST, addr, 2);
    let plan = common::plan(
        LoadModel::Fixed { concurrency: 1 },
        StopAt::Requests(100),
        1,
    );
    let client = Arc::new(Client::new(&target, 1).await.unwrap());
    let outcome = run(&plan, client, std::future::pending()).await;
    assert_eq!(outcome.tally.requests_ok, 50);
    assert_eq!(outcome.tally.errors.count(ErrorKind::WrongBody), 50);
    assert!(outcome.tally.errors.examples_by_name()["wrong_body"].contains("expected"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_errors_are_counted_by_status() {
    let router = Router::new().route(
        "/payload",
        get(|| async { (http::StatusCode::SERVICE_UNAVAILABLE, "busy") }),
    );
    let addr = serve_router(router).await;
    let target = common::payload_target(Stack::REST, addr, 1);
    let plan = common::plan(LoadModel::Fixed { concurrency: 2 }, StopAt::Requests(20), 2);
    let outcome = run(
        &plan,
        Arc::new(Client::new(&target, 2).await.unwrap()),
        std::future::pending(),
    )
    .await;
    assert_eq!(outcome.tally.requests_ok, 0);
    assert_eq!(outcome.tally.errors.count(ErrorKind::Status), 20);
    assert!(outcome.tally.errors.examples_by_name()["status"].contains("503"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_server_gives_timeouts_and_the_run_ends_on_time() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    for stack in common::plain_stacks() {
        let target = common::payload_target(stack, addr, 1);
        let plan = LoadPlan::new(
            LoadModel::Fixed { concurrency: 2 },
            StopAt::Duration(Duration::from_millis(1500)),
            Duration::ZERO,
            Duration::from_millis(400),
            1,
        )
        .unwrap();
        let started = Instant::now();
        let outcome = run(
            &plan,
            Arc::new(Client::new(&target, 1).await.unwrap()),
            std::future::pending(),
        )
        .await;
        assert!(
            started.elapsed() < Duration::from_millis(2500),
            "{stack}: {:?}",
            started.elapsed()
        );
        assert_eq!(outcome.tally.requests_ok, 0);
        assert!(
            outcome.tally.errors.count(ErrorKind::Timeout) >= 2,
            "{stack}: {:?}",
            outcome.tally.errors
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_dies_mid_run_gives_errors_by_kind_and_the_run_ends_on_time() {
    for stack in common::plain_stacks() {
        let server = common::start(stack, 64).await;
        let target = common::payload_target(stack, server.addr, 1);
        let plan = common::plan(
            LoadModel::Fixed { concurrency: 4 },
            StopAt::Duration(Duration::from_secs(2)),
            stack.default_connections(4),
        );
        let client = Arc::new(Client::new(&target, plan.connections()).await.unwrap());
        let killer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(700)).await;
            // Abort the server task: its listener and connections close.
            server.task.abort();
            drop(server);
        });
        let started = Instant::now();
        let outcome = run(&plan, client, std::future::pending()).await;
        killer.await.unwrap();
        assert!(
            started.elapsed() < Duration::from_millis(3000),
            "{stack}: {:?}",
            started.elapsed()
        );
        assert!(outcome.tally.requests_ok > 0, "{stack}");
        let errors = &outcome.tally.errors;
        let refused = errors.count(ErrorKind::Connect) + errors.count(ErrorKind::Unavailable);
        assert!(refused > 0, "{stack}: {:?}", errors.by_name());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_the_run_and_keeps_what_was_measured() {
    let server = common::start(Stack::REST, 64).await;
    let target = common::payload_target(Stack::REST, server.addr, 1);
    let plan = common::plan(
        LoadModel::Fixed { concurrency: 2 },
        StopAt::Duration(Duration::from_secs(30)),
        2,
    );
    let client = Arc::new(Client::new(&target, 2).await.unwrap());
    let started = Instant::now();
    let outcome = run(
        &plan,
        client,
        tokio::time::sleep(Duration::from_millis(800)),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(outcome.interrupted);
    assert!(outcome.tally.requests_ok > 0);
    assert!(outcome.measured < Duration::from_secs(2));
}

#[test]
fn body_checks_survive_arbitrary_answers() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..20_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 400) as usize;
        let input: Vec<u8> = (0..len).map(|i| (state >> (i % 56)) as u8 ^ b'x').collect();
        wirebench_load::verify::fuzz_entry(&input);
    }
}
