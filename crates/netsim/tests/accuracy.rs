//! The proxy does what it says: a 20 ms one-way delay makes a round trip
//! take at least 40 ms, a 10 Mbit/s link carries 10 Mbit/s (within 10%), and
//! resets reach the load engine as errors of kind `reset`. Real server, real
//! engine, real sockets on loopback.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use wirebench_load::{Client, ErrorKind, Job, LoadModel, LoadPlan, StopAt, Target};
use wirebench_netsim::{NetConditions, Proxy};
use wirebench_proto::vocab::Stack;
use wirebench_server::{PayloadHandler, ServeOptions};

async fn payload_server() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(wirebench_server::serve(
        Stack::REST,
        listener,
        PayloadHandler::new(4096),
        ServeOptions::default(),
        std::future::pending(),
    ));
    addr
}

fn target(addr: SocketAddr, size_kb: u64) -> Target {
    Target {
        authority: addr.to_string(),
        tls: None,
        kind: Job::Payload { size_kb }.request(Stack::REST).unwrap(),
    }
}

async fn load(target: &Target, concurrency: u32, stop: StopAt) -> wirebench_load::LoadOutcome {
    let plan = LoadPlan::new(
        LoadModel::Fixed { concurrency },
        stop,
        Duration::from_millis(300),
        Duration::from_secs(5),
        concurrency,
    )
    .unwrap();
    let client = Arc::new(Client::new(target, concurrency).await.unwrap());
    wirebench_load::run(&plan, client, std::future::pending()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20ms_one_way_delay_makes_round_trips_of_at_least_40ms() {
    let server = payload_server().await;
    let conditions: NetConditions = "latency=20ms".parse().unwrap();
    let proxy = Proxy::start(server, conditions).await.unwrap();
    let outcome = load(&target(proxy.addr(), 1), 1, StopAt::Requests(20)).await;
    assert_eq!(
        outcome.tally.requests_ok,
        20,
        "{:?}",
        outcome.tally.errors.by_name()
    );
    let latency = &outcome.tally.latency_us;
    assert!(
        latency.min() >= 40_000,
        "min round trip {} us",
        latency.min()
    );
    assert!(
        latency.value_at_quantile(0.5) < 60_000,
        "p50 {} us",
        latency.value_at_quantile(0.5)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10_mbit_link_carries_10_mbit() {
    let server = payload_server().await;
    let conditions: NetConditions = "bandwidth=10mbit".parse().unwrap();
    let proxy = Proxy::start(server, conditions).await.unwrap();
    let window = Duration::from_secs(3);
    let outcome = load(&target(proxy.addr(), 64), 4, StopAt::Duration(window)).await;
    assert_eq!(outcome.tally.errors.total(), 0);
    // Everything the server sent crossed the link: compare what arrived.
    let bits_per_s = outcome.wire.received as f64 * 8.0 / window.as_secs_f64();
    let error = (bits_per_s - 10e6).abs() / 10e6;
    assert!(
        error < 0.10,
        "measured {:.2} Mbit/s through a 10 Mbit/s link",
        bits_per_s / 1e6
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_reach_the_engine_as_errors_of_kind_reset() {
    let server = payload_server().await;
    let conditions: NetConditions = "reset=0.2".parse().unwrap();
    let proxy = Proxy::start(server, conditions).await.unwrap();
    let outcome = load(
        &target(proxy.addr(), 1),
        2,
        StopAt::Duration(Duration::from_secs(1)),
    )
    .await;
    let errors = &outcome.tally.errors;
    assert!(errors.count(ErrorKind::Reset) > 0, "{:?}", errors.by_name());
    assert!(outcome.tally.requests_ok > 0, "most requests still pass");
    assert!(
        proxy
            .stats()
            .resets
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
}
