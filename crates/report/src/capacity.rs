//! Capacity at an SLO (`bench --find-capacity --slo 'p99<50ms'`): per
//! stack, the highest open-loop rate whose step met every term of the SLO
//! and was sustained, with every step tried. Here: the record, its table,
//! its verdict sentence and the points of its chart (p99 against offered
//! rate: the knee). The search itself runs in the CLI.

use serde::{Deserialize, Serialize};

use crate::format;
use crate::grid::Grid;
use crate::model::RunResult;

/// A step counts as sustained when its good responses per second reach
/// this share of the offered rate.
pub const SUSTAINED_SHARE: f64 = 0.95;

/// One stack's search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The stack (and variant) as trials are labelled: "grpc".
    pub label: String,
    /// The SLO's terms as written: ["p99<20ms", "errors<0.1%"].
    pub slo: Vec<String>,
    /// The highest offered rate whose step met the SLO, requests per
    /// second; null when not even the lowest step did.
    pub capacity_rps: Option<f64>,
    /// The capacity was met twice: the search ran it again to confirm
    /// it. False when the search ran out of steps first (or found none).
    #[serde(default)]
    pub confirmed: bool,
    /// Every step, in the order tried (a ramp, then a bisection).
    pub steps: Vec<CapacityStep>,
    /// What stopped it at the lowest failing step: "server" (its CPU
    /// saturated or its latency grew), "load generator" (the client had
    /// no CPU to spare: the figure is a floor), or null when no step
    /// failed.
    pub limited_by: Option<String>,
}

/// One rate tried, open loop, for one step's window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityStep {
    pub offered_rps: f64,
    /// Good responses per second.
    pub achieved_rps: f64,
    /// Latency from the intended send time, microseconds.
    pub p99_us: u64,
    pub error_rate: f64,
    pub server_cpu_percent: f64,
    pub client_bound: bool,
    /// Every SLO term held and the rate was sustained.
    pub met: bool,
    /// Why not: the terms that failed, and "sustained" when fewer than
    /// 95% of the offered requests were answered well.
    pub failed: Vec<String>,
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
                match (c.capacity_rps, c.confirmed) {
                    (None, _) => "below the lowest step".into(),
                    (Some(rps), true) => format::thousands(rps.round() as u64),
                    (Some(rps), false) => {
                        format!("{} (met once)", format::thousands(rps.round() as u64))
                    }
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
            "capacity (req/s)",
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
    let parts: Vec<String> = found
        .iter()
        .map(|c| match c.capacity_rps {
            Some(rps) if best > 0.0 && rps < best => format!(
                "{} {} req/s ({:.2}x)",
                c.label,
                format::thousands(rps.round() as u64),
                rps / best
            ),
            Some(rps) => format!(
                "{} {} req/s",
                c.label,
                format::thousands(rps.round() as u64)
            ),
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
