//! `merge` on agents' results made from known samples: the merged
//! histograms are the histograms of all the samples, second by second too,
//! and what cannot be one plan's parts is refused.

use hdrhistogram::Histogram;
use wirebench_report::histogram::{decode, encode};
use wirebench_report::{Agent, MergeError, RunResult, TimelinePoint, merge};

const FIXTURE: &str = include_str!("fixtures/result.json");
const SECONDS: usize = 3;

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

/// Agent `index` of `count`'s samples in second `second`: they differ by
/// agent and by second.
fn samples(index: u32, second: usize) -> Vec<u64> {
    (0..200 + 50 * index as u64)
        .map(|k| 100 + (k * 7919 + u64::from(index) * 104_729 + second as u64 * 31) % 20_000)
        .collect()
}

fn agent_result(index: u32, count: u32) -> RunResult {
    let mut result: RunResult = serde_json::from_str(FIXTURE).unwrap();
    result.trials.truncate(1);
    let trial = &mut result.trials[0];
    let mut whole = new_histogram();
    trial.timeline = (0..SECONDS)
        .map(|second| {
            let mut h = new_histogram();
            for v in samples(index, second) {
                h.record(v).unwrap();
            }
            whole.add(&h).unwrap();
            TimelinePoint {
                t_s: second as f64 + 1.0,
                requests_ok: h.len(),
                errors: 0,
                p99_us: h.value_at_quantile(0.99),
                latency_histogram: Some(encode(&h)),
            }
        })
        .collect();
    trial.requests_ok = whole.len();
    trial.errors.clear();
    trial.latency_histogram = encode(&whole);
    trial.agents = vec![Agent {
        index,
        count,
        host: format!("agent-{index}"),
        started_at: "2026-12-02T14:00:00Z".into(),
        start_lateness_ms: Some(1.5),
        ..Agent::default()
    }];
    result
}

fn inputs(count: u32) -> Vec<(String, RunResult)> {
    (0..count)
        .map(|i| (format!("agent-{i}.json"), agent_result(i, count)))
        .collect()
}

#[test]
fn the_merged_histograms_are_those_of_all_the_samples() {
    let count = 4;
    let merged = merge(inputs(count), vec!["wirebench".into(), "merge".into()]).unwrap();
    let trial = &merged.trials[0];
    let mut all = new_histogram();
    for second in 0..SECONDS {
        let mut this_second = new_histogram();
        for index in 0..count {
            for v in samples(index, second) {
                this_second.record(v).unwrap();
            }
        }
        let point = &trial.timeline[second];
        assert_eq!(point.requests_ok, this_second.len());
        assert_eq!(point.p99_us, this_second.value_at_quantile(0.99));
        all.add(&this_second).unwrap();
    }
    assert_eq!(decode(&trial.latency_histogram).unwrap(), all);
    assert_eq!(trial.requests_ok, all.len());
    assert_eq!(trial.latency_us.p99, all.value_at_quantile(0.99));
    let hosts: Vec<&str> = trial.agents.iter().map(|a| a.host.as_str()).collect();
    assert_eq!(hosts, ["agent-0", "agent-1", "agent-2", "agent-3"]);
    // In any order.
    let mut reversed = inputs(count);
    reversed.reverse();
    assert_eq!(
        merge(reversed, vec![]).unwrap().trials[0].latency_histogram,
        trial.latency_histogram
    );
}

#[test]
fn what_is_not_one_plans_parts_is_refused() {
    let command = || vec!["wirebench".to_owned()];
    let mut other_plan = inputs(3);
    other_plan[1].1.trials[0].size_kb = Some(1);
    assert!(matches!(
        merge(other_plan, command()),
        Err(MergeError::DifferentPlans { .. })
    ));

    let mut coarser = inputs(3);
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 2).unwrap();
    h.record(100).unwrap();
    coarser[2].1.trials[0].latency_histogram = encode(&h);
    let error = merge(coarser, command()).unwrap_err();
    assert!(
        matches!(error, MergeError::HistogramSettings { .. }),
        "{error}"
    );

    let mut unsharded = inputs(2);
    unsharded[0].1.trials[0].agents.clear();
    assert!(matches!(
        merge(unsharded, command()),
        Err(MergeError::NotSharded { .. })
    ));
    let mut twice = inputs(3);
    twice[2] = twice[1].clone();
    assert!(matches!(
        merge(twice, command()),
        Err(MergeError::Duplicate { index: 1, .. })
    ));
    let error = merge(inputs(3)[..2].to_vec(), command()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "agent(s) [2] of 3 are missing: merge all 3 results"
    );
    assert!(matches!(merge(vec![], command()), Err(MergeError::Empty)));
}

#[test]
fn counts_that_overflow_are_refused_not_wrapped() {
    let mut inputs = inputs(2);
    inputs[1].1.trials[0].requests_ok = u64::MAX;
    let err = merge(inputs, vec![]).unwrap_err();
    assert!(
        matches!(
            err,
            MergeError::Overflow {
                what: "requests_ok",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("overflows"), "{err}");
}
