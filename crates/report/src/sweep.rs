//! A size sweep (`bench --sizes`): per series (a stack, and the message
//! and direction within it) the figures against size, medians over
//! repetitions; and in words, where the stacks' order changes as size
//! grows.

use std::collections::BTreeMap;

use crate::model::{RunResult, Trial};
use crate::stats::Spread;

/// One stack's figures at every size of the sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSeries {
    /// "grpc (order down)".
    pub name: String,
    pub stack: String,
    /// The variant the series belongs to ("order down"); stacks are
    /// compared within one.
    pub family: Option<String>,
    pub points: Vec<SweepPoint>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepPoint {
    pub size_kb: u64,
    pub throughput_rps: f64,
    pub p50_ms: f64,
    pub server_cpu_ms_per_request: Option<f64>,
    pub wire_bytes_per_request: Option<f64>,
}

/// Figures this close (10%) are a tie, not an order.
const TIE: f64 = 0.10;

/// A series' trials, by size.
type BySize<'a> = BTreeMap<u64, Vec<&'a Trial>>;

/// The sweep's series, when the run has two sizes or more.
pub fn series(result: &RunResult) -> Vec<SweepSeries> {
    let trials: Vec<&Trial> = result
        .trials
        .iter()
        .filter(|t| !t.interrupted && t.size_kb.is_some())
        .collect();
    let mut sizes: Vec<u64> = trials.iter().filter_map(|t| t.size_kb).collect();
    sizes.sort_unstable();
    sizes.dedup();
    if sizes.len() < 2 {
        return Vec::new();
    }
    let mut by_series: BTreeMap<(String, Option<String>), BySize<'_>> = BTreeMap::new();
    for t in trials {
        by_series
            .entry((t.stack.to_string(), t.variant.clone()))
            .or_default()
            .entry(t.size_kb.unwrap_or(0))
            .or_default()
            .push(t);
    }
    let median = |trials: &[&Trial], f: fn(&Trial) -> Option<f64>| {
        Spread::of(&trials.iter().filter_map(|t| f(t)).collect::<Vec<_>>()).map(|s| s.median)
    };
    by_series
        .into_iter()
        .map(|((stack, family), sizes)| SweepSeries {
            name: crate::label::stack_label(&stack, family.as_deref()),
            stack,
            family,
            points: sizes
                .into_iter()
                .map(|(size_kb, trials)| SweepPoint {
                    size_kb,
                    throughput_rps: median(&trials, |t| Some(t.throughput_rps)).unwrap_or(0.0),
                    p50_ms: median(&trials, |t| Some(t.latency_us.p50 as f64 / 1000.0))
                        .unwrap_or(0.0),
                    server_cpu_ms_per_request: median(&trials, |t| {
                        t.costs.server_cpu_ms_per_request
                    }),
                    wire_bytes_per_request: median(&trials, |t| {
                        Some(t.wire_bytes_sent_per_request? + t.wire_bytes_received_per_request?)
                    }),
                })
                .collect(),
        })
        .collect()
}

/// In words, per family: the stacks from cheapest to dearest in server CPU
/// per request (or, unprobed, from most to fewest requests per second) at
/// each size, and the sizes where that order changes.
pub fn crossovers(result: &RunResult) -> Vec<String> {
    let series = series(result);
    let mut families: Vec<Option<String>> = series.iter().map(|s| s.family.clone()).collect();
    families.dedup();
    families
        .into_iter()
        .filter_map(|family| {
            let members: Vec<&SweepSeries> = series.iter().filter(|s| s.family == family).collect();
            if members.len() < 2 {
                return None;
            }
            let by_cpu = members.iter().all(|s| {
                s.points
                    .iter()
                    .all(|p| p.server_cpu_ms_per_request.is_some())
            });
            let mut sizes: Vec<u64> = members
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.size_kb))
                .collect();
            sizes.sort_unstable();
            sizes.dedup();
            // The order at each size, best first, as words: stacks within
            // TIE of the one before them are "≈" (and named alphabetically,
            // so noise between near-equals is not called a change).
            let orders: Vec<(u64, String)> = sizes
                .iter()
                .map(|&size| {
                    let mut ranked: Vec<(f64, &str)> = members
                        .iter()
                        .filter_map(|s| {
                            let p = s.points.iter().find(|p| p.size_kb == size)?;
                            let key = if by_cpu {
                                p.server_cpu_ms_per_request?
                            } else {
                                1.0 / p.throughput_rps.max(1e-9)
                            };
                            Some((key, s.stack.as_str()))
                        })
                        .collect();
                    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
                    let mut groups: Vec<Vec<&str>> = Vec::new();
                    let mut previous = f64::NAN;
                    for (value, stack) in ranked {
                        match groups.last_mut() {
                            Some(group) if value <= previous * (1.0 + TIE) => group.push(stack),
                            _ => groups.push(vec![stack]),
                        }
                        previous = value;
                    }
                    let words: Vec<String> = groups
                        .into_iter()
                        .map(|mut group| {
                            group.sort_unstable();
                            group.join(" ≈ ")
                        })
                        .collect();
                    (size, words.join(" < "))
                })
                .collect();
            let mut runs: Vec<(u64, u64, &String)> = Vec::new();
            for (size, order) in &orders {
                match runs.last_mut() {
                    Some(run) if run.2 == order => run.1 = *size,
                    _ => runs.push((*size, *size, order)),
                }
            }
            let what = if by_cpu {
                "by server CPU per request, cheapest first (≈: within 10%)"
            } else {
                "by requests per second, most first (≈: within 10%)"
            };
            let span = |(from, to): (u64, u64)| {
                if from == to {
                    format!("{from} KiB")
                } else {
                    format!("{from}-{to} KiB")
                }
            };
            let scope = family.map(|f| format!("{f}, ")).unwrap_or_default();
            Some(if runs.len() == 1 {
                format!(
                    "{scope}{what}: the order does not change from {} to {} KiB: {}.",
                    sizes[0],
                    sizes[sizes.len() - 1],
                    runs[0].2
                )
            } else {
                let parts: Vec<String> = runs
                    .iter()
                    .map(|(from, to, order)| format!("at {} {order}", span((*from, *to))))
                    .collect();
                format!("{scope}{what}, the order changes: {}.", parts.join("; "))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fixture's rest and grpc trials at 1, 16 and 256 KiB, grpc the
    /// dearer at 1 KiB and the cheaper from 16 KiB on.
    fn sweep() -> RunResult {
        let mut result: RunResult =
            serde_json::from_str(include_str!("../tests/fixtures/result.json")).unwrap();
        let rest = result
            .trials
            .iter()
            .find(|t| t.stack.to_string() == "rest")
            .unwrap()
            .clone();
        let grpc = result
            .trials
            .iter()
            .find(|t| t.stack.to_string() == "grpc")
            .unwrap()
            .clone();
        result.trials.clear();
        for (size_kb, rest_ms, grpc_ms) in [(1, 0.02, 0.03), (16, 0.10, 0.05), (256, 1.0, 0.4)] {
            for (template, ms) in [(&rest, rest_ms), (&grpc, grpc_ms)] {
                let mut trial = template.clone();
                trial.size_kb = Some(size_kb);
                trial.repetition = 0;
                trial.costs.server_cpu_ms_per_request = Some(ms);
                result.trials.push(trial);
            }
        }
        result
    }

    #[test]
    fn the_sentence_names_the_size_where_the_order_changes() {
        let result = sweep();
        let series = series(&result);
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].points.len(), 3);
        assert_eq!(
            crossovers(&result),
            [
                "by server CPU per request, cheapest first (≈: within 10%), the order changes: at 1 KiB rest < grpc; at 16-256 KiB grpc < rest."
            ]
        );
    }

    #[test]
    fn near_equals_are_a_tie_not_a_change() {
        let mut result = sweep();
        result.trials.retain(|t| t.size_kb != Some(256));
        for t in &mut result.trials {
            let rest = t.stack.to_string() == "rest";
            let ms = match (t.size_kb, rest) {
                (Some(1), true) | (Some(16), false) => 0.100,
                _ => 0.105,
            };
            t.costs.server_cpu_ms_per_request = Some(ms);
        }
        assert_eq!(
            crossovers(&result),
            [
                "by server CPU per request, cheapest first (≈: within 10%): the order does not change from 1 to 16 KiB: grpc ≈ rest."
            ]
        );
    }

    #[test]
    fn one_size_is_no_sweep() {
        let mut result = sweep();
        result.trials.retain(|t| t.size_kb == Some(16));
        assert!(series(&result).is_empty());
        assert!(crossovers(&result).is_empty());
    }
}
