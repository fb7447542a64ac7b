//! `bench --find-capacity`: the ramp and bisection against real servers,
//! with SLOs chosen so the outcome does not depend on the machine's speed:
//! one every step meets until the rate cannot be sustained, one no step
//! can meet.

mod common;

use common::*;

fn search(slo: &str) -> (serde_json::Value, String) {
    bench_json(&[
        "-q",
        "--find-capacity",
        "--slo",
        slo,
        "--stacks",
        "rest",
        "--size-kb",
        "1",
        "--rate",
        "100",
        "-t",
        "300ms",
        "--warmup",
        "0s",
    ])
}

#[test]
fn capacity_is_the_highest_rate_met_and_every_step_is_kept() {
    let (result, stdout) = search("p99<2s,error_rate<1%");
    let capacity = &result["capacity"][0];
    assert!(
        result["trials"].as_array().unwrap().is_empty(),
        "steps are not trials"
    );
    assert_eq!(capacity["label"], "rest");
    assert_eq!(
        capacity["slo"],
        serde_json::json!(["p99<2s", "error_rate<1%"])
    );
    let steps = capacity["steps"].as_array().unwrap();
    let found = capacity["capacity_rps"].as_f64().expect("a capacity");
    // The ramp doubles from 100/s while steps are met.
    assert_eq!(steps[0]["offered_rps"], 100.0);
    assert_eq!(steps[1]["offered_rps"], 200.0);
    // The capacity is a rate met twice: the last step confirmed it
    // (unless the search ran out of its 16 steps first).
    let met_at_found = steps
        .iter()
        .filter(|s| s["met"] == true && s["offered_rps"].as_f64() == Some(found))
        .count();
    assert!(
        met_at_found == 2 || (steps.len() == 16 && met_at_found >= 1),
        "{capacity}"
    );
    for step in steps {
        let failed = step["failed"].as_array().unwrap();
        assert_eq!(step["met"] == true, failed.is_empty(), "{step}");
    }
    assert!(
        stdout.contains("Capacity at the SLO p99<2s, error_rate<1%"),
        "{stdout}"
    );
    assert!(stdout.contains("rest: 100 req/s offered: met"), "{stdout}");
}

#[test]
fn an_slo_no_step_meets_has_no_capacity_and_the_ramp_goes_down() {
    let (result, stdout) = search("p99<1us");
    let capacity = &result["capacity"][0];
    assert!(capacity["capacity_rps"].is_null(), "{capacity}");
    // Which one depends on how busy the machine is (debug build, tests in
    // parallel); that one is named does not.
    assert!(
        capacity["limited_by"] == "server" || capacity["limited_by"] == "load generator",
        "{capacity}"
    );
    let offered: Vec<f64> = capacity["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["offered_rps"].as_f64().unwrap())
        .collect();
    assert_eq!(offered[..3], [100.0, 50.0, 25.0]);
    assert!(stdout.contains("not even at its lowest step"), "{stdout}");
}
