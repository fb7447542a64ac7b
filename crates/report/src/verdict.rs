//! The one-line answer under the table.

use crate::format;
use crate::model::{RunResult, Trial};

/// E.g. "grpc served 1.85x the requests per second of rest (p50 1.20 ms vs
/// 2.31 ms), both with 0 errors."
pub fn verdict(result: &RunResult) -> Option<String> {
    let trials: Vec<&Trial> = result.trials.iter().collect();
    let [first, .., last] = trials.as_slice() else {
        return trials.first().map(|t| single(t));
    };
    let (fast, slow) = if first.throughput_rps >= last.throughput_rps {
        (*first, *last)
    } else {
        (*last, *first)
    };
    let label = |t: &Trial| t.stack.to_string();
    if slow.requests_ok == 0 {
        return Some(format!(
            "{} got no good response; {} served {} req/s.",
            label(slow),
            label(fast),
            format::rate(fast.throughput_rps)
        ));
    }
    let ratio = fast.throughput_rps / slow.throughput_rps;
    let errors = match (fast.errors_total(), slow.errors_total()) {
        (0, 0) => "both with 0 errors".to_owned(),
        (a, b) => format!("errors: {} {a}, {} {b}", label(fast), label(slow)),
    };
    Some(format!(
        "{} served {ratio:.2}x the requests per second of {} (p50 {} vs {}, p99 {} vs {}), {errors}.",
        label(fast),
        label(slow),
        format::latency_us(fast.latency_us.p50),
        format::latency_us(slow.latency_us.p50),
        format::latency_us(fast.latency_us.p99),
        format::latency_us(slow.latency_us.p99),
    ))
}

fn single(t: &Trial) -> String {
    format!(
        "{} served {} req/s with p50 {} and {} errors.",
        t.stack,
        format::rate(t.throughput_rps),
        format::latency_us(t.latency_us.p50),
        t.errors_total()
    )
}
