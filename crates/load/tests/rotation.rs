//! A target of several requests sends them in turn (round-robin, one
//! `--data-file` line after another) and checks each answer against its
//! own request: against a real echo server, three bodies of different
//! lengths, nine requests, each body sent (and so answered) three times.

mod common;

use std::sync::Arc;

use bytes::Bytes;
use wirebench_load::verify::BodyCheck;
use wirebench_load::{
    Client, Exchange, Exchanges, Job, LoadModel, StopAt, Target, TargetKind, run,
};
use wirebench_proto::vocab::Stack;

#[tokio::test]
async fn requests_go_in_turn_and_each_answer_is_checked_against_its_own() {
    let server = common::start(Stack::REST, 1024).await;
    // The echo contract's headers and route, with three bodies.
    let TargetKind::Http(mut http) = Job::Echo { size_kb: 1 }.request(Stack::REST).unwrap() else {
        panic!("REST is HTTP")
    };
    let path = http.exchanges.first().path.clone();
    let bodies = [r#"{"data":"a"}"#, r#"{"data":"bb"}"#, r#"{"data":"cccc"}"#];
    http.exchanges = Exchanges::new(
        bodies
            .iter()
            .map(|body| Exchange {
                path: path.clone(),
                body: Bytes::from_static(body.as_bytes()),
                check: BodyCheck::Exact(Bytes::from_static(body.as_bytes())),
                vary: None,
            })
            .collect(),
    )
    .unwrap();
    let target = Target {
        authority: server.addr.to_string(),
        tls: None,
        kind: TargetKind::Http(http),
    };
    let plan = common::plan(LoadModel::Fixed { concurrency: 1 }, StopAt::Requests(9), 1);
    let client = Arc::new(Client::new(&target, 1).await.unwrap());
    let outcome = run(&plan, client, std::future::pending()).await;
    assert_eq!(outcome.tally.requests_ok, 9, "{:?}", outcome.tally.errors);
    let each_once: u64 = bodies.iter().map(|b| b.len() as u64).sum();
    assert_eq!(outcome.tally.bytes_received, 3 * each_once);
}
