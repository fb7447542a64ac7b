//! Capacity at an SLO (`bench --find-capacity --slo 'p99<50ms'`): per
//! stack, the highest open-loop rate decided as meeting every term of the
//! SLO and sustained, the lowest rate decided as missing it (the capacity
//! lies between: its interval), and every step run. Here: the record, its table,
//! its verdict sentence and the points of its chart (p99 against offered
//! rate: the knee). The search itself runs in the CLI.

use crate::format;
use crate::grid::Grid;
use crate::model::RunResult;
pub use crate::model::{Capacity, CapacityStep};

/// A step counts as sustained when its good responses per second reach
/// this share of the offered rate.
pub const SUSTAINED_SHARE: f64 = 0.95;

/// "14,577 req/s (missed at 15,300)": the capacity and its interval.
pub fn interval_text(c: &Capacity) -> String {
    match (c.capacity_rps, c.missed_rps) {
        (None, _) => "below the lowest step".into(),
        (Some(met), Some(missed)) => format!(
            "{} req/s (missed at {})",
            format::thousands(met.round() as u64),
            format::thousands(missed.round() as u64)
        ),
        (Some(met), None) => format!(
            "{} req/s (no rate missed)",
            format::thousands(met.round() as u64)
        ),
    }
}

/// The capacity table: per stack the capacity, the limit and the steps.
pub fn grid(result: &RunResult) -> Option<Grid> {
    if result.capacity.is_empty() {
        return None;
    }
    let rows = result
        .capacity
        .iter()
        .map(|c| {
            let steps: Vec<String> = c
                .steps
                .iter()
                .map(|s| {
                    format!(
                        "{} {}",
                        format::thousands(s.offered_rps.round() as u64),
                        if s.met { "met" } else { "missed" }
                    )
                })
                .collect();
            vec![
                c.label.clone(),
                c.slo.join(", "),
                if c.confirmed || c.capacity_rps.is_none() {
                    interval_text(c)
                } else {
                    format!("{}; search cut short", interval_text(c))
                },
                c.limited_by.clone().unwrap_or_else(|| "-".into()),
                steps.join("; "),
            ]
        })
        .collect();
    Some(Grid {
        header: vec![
            "stack",
            "SLO",
            "capacity (req/s) [met, missed)",
            "limit",
            "steps (offered req/s)",
        ],
        rows,
        numeric_from: 5,
    })
}

/// The verdict: stacks by capacity at the SLO, most first, each against
/// the best.
pub fn verdict(result: &RunResult) -> Vec<String> {
    let mut found: Vec<&Capacity> = result.capacity.iter().collect();
    if found.is_empty() {
        return Vec::new();
    }
    found.sort_by(|a, b| {
        b.capacity_rps
            .unwrap_or(0.0)
            .total_cmp(&a.capacity_rps.unwrap_or(0.0))
    });
    let best = found[0].capacity_rps.unwrap_or(0.0);
    // Two capacities whose intervals overlap are not told apart.
    let overlaps = |a: &Capacity, b: &Capacity| match (a.capacity_rps, b.capacity_rps) {
        (Some(a_met), Some(b_met)) => {
            a_met < b.missed_rps.unwrap_or(f64::INFINITY)
                && b_met < a.missed_rps.unwrap_or(f64::INFINITY)
        }
        _ => false,
    };
    let parts: Vec<String> = found
        .iter()
        .map(|c| match c.capacity_rps {
            Some(rps) if best > 0.0 && rps < best => format!(
                "{} {}, {:.2}x{}",
                c.label,
                interval_text(c),
                rps / best,
                if overlaps(c, found[0]) {
                    ", within the first's interval: not told apart"
                } else {
                    ""
                }
            ),
            Some(_) => format!("{} {}", c.label, interval_text(c)),
            None => format!("{} not even at its lowest step", c.label),
        })
        .collect();
    let mut sentences = vec![format!(
        "Capacity at the SLO {}, most first: {}.",
        found[0].slo.join(", "),
        parts.join(", ")
    )];
    let client: Vec<&str> = found
        .iter()
        .filter(|c| c.limited_by.as_deref() == Some("load generator"))
        .map(|c| c.label.as_str())
        .collect();
    if !client.is_empty() {
        sentences.push(format!(
            "For {} the load generator, not the server, was the limit: the figure is a floor.",
            client.join(", ")
        ));
    }
    let unclear: Vec<&str> = found
        .iter()
        .filter(|c| c.limited_by.as_deref() == Some("unclear"))
        .map(|c| c.label.as_str())
        .collect();
    if !unclear.is_empty() {
        sentences.push(format!(
            "For {} neither side's CPU was saturated where the SLO was missed: the limit is noise on this machine, or not CPU.",
            unclear.join(", ")
        ));
    }
    sentences
}

/// Per stack, (offered req/s, p99 ms) of every step, by offered rate.
pub fn knee(result: &RunResult) -> Vec<(String, Vec<(f64, f64)>)> {
    result
        .capacity
        .iter()
        .map(|c| {
            let mut points: Vec<(f64, f64)> = c
                .steps
                .iter()
                .map(|s| (s.offered_rps, s.p99_us as f64 / 1000.0))
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            (c.label.clone(), points)
        })
        .collect()
}
