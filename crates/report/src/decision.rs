//! The answer a team came for, per workload group (the same workload,
//! message, size and network across stacks): which configuration serves
//! it for the least server CPU, what each other one costs against that
//! with the interval its paired trials allow, and what that means at the
//! user's rate: cores and megabits per second, from the measured CPU per
//! request and wire bytes per request.
//!
//! The translation assumes cost is linear in rate, which holds below the
//! capacity measured; a rate above what a configuration was seen serving
//! is marked as extrapolated. Where the run cannot answer (a trial too
//! short, client-bound, noisy, or a server wirebench did not probe), the
//! panel says so in a line with the fix, instead of ranking on it.

use crate::evidence;
use crate::label::{WorkloadGroup, group_label, workload_groups};
use crate::model::{RunResult, Trial};
use crate::stats::{RatioInterval, Spread, paired_ratio};

/// How a report is read: the user's questions of a result, not part of it,
/// so an old result can be rendered again with other answers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct View {
    /// The rate to translate costs to, requests per second; None: each
    /// group's highest measured throughput.
    pub at_rate_rps: Option<f64>,
    /// Terminal: every column, however wide.
    pub wide: bool,
    /// Markdown: link the charts as SVG files in `charts/` beside the
    /// report ([`crate::export::chart_files`] writes them).
    pub charts_beside: bool,
}

/// A spread of CPU per request whose max is more than this far from its
/// min, relative to the median, is called noisy.
pub const NOISY_SPREAD: f64 = 0.20;

/// One workload group's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// "payload 64 KiB", "message order down".
    pub workload: String,
    /// The rate the costs are translated to, requests per second.
    pub rate_rps: f64,
    /// True when the user gave it (`--at-rate`), false when it is the
    /// group's highest measured throughput.
    pub rate_given: bool,
    /// Ordered: cheapest server CPU per request first; configurations
    /// without a CPU reading after, by throughput.
    pub choices: Vec<Choice>,
    /// What the answer does not cover, one line each, with the fix.
    pub gaps: Vec<String>,
    /// What else the run holds about this group: capacity at the SLO, the
    /// sizes where the order changes.
    pub evidence: Vec<String>,
    /// False when the cheapest or the next one is too short or too noisy
    /// to rank: the headline says so.
    pub conclusive: bool,
}

/// One configuration of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub label: String,
    /// The stack's name, for its colour.
    pub stack: String,
    /// The TCP ceiling: the least any stack could cost, shown for scale.
    pub ceiling: bool,
    pub trials: usize,
    pub throughput_rps: f64,
    pub server_cpu_ms_per_request: Option<Spread>,
    /// Its server CPU per request against the cheapest's, paired by
    /// repetition; None for the cheapest itself or without CPU readings.
    pub against_cheapest: Option<RatioInterval>,
    pub p50_us: f64,
    pub p99_us: f64,
    /// Both directions together.
    pub wire_bytes_per_request: Option<f64>,
    /// Cores busy serving `rate_rps`.
    pub cores_at_rate: Option<f64>,
    /// Megabits per second on the wire at `rate_rps`, both directions.
    pub mbit_s_at_rate: Option<f64>,
    /// `rate_rps` is above the throughput this configuration was measured
    /// at: the translation is an extrapolation.
    pub beyond_measured: bool,
}

/// Cores busy at `rate_rps` for a cost of `cpu_ms_per_request`.
pub fn cores_at(rate_rps: f64, cpu_ms_per_request: f64) -> f64 {
    rate_rps * cpu_ms_per_request / 1000.0
}

/// Megabits per second at `rate_rps` for `bytes_per_request` on the wire.
pub fn mbit_s_at(rate_rps: f64, bytes_per_request: f64) -> f64 {
    rate_rps * bytes_per_request * 8.0 / 1e6
}

/// Every workload group's decision, in the order the groups first ran.
pub fn decisions(result: &RunResult, view: &View) -> Vec<Decision> {
    let groups = workload_groups(result);
    let mut decided: Vec<(WorkloadGroup, Decision)> = groups
        .iter()
        .filter_map(|group| Some((group.clone(), decide(result, group, view)?)))
        .collect();
    // The same workload under another network: where the cheapest changes.
    for i in 0..decided.len() {
        let (group, decision) = &decided[i];
        let changes: Vec<String> = decided
            .iter()
            .filter(|(other, d)| {
                other.net != group.net
                    && other.workload == group.workload
                    && other.message == group.message
                    && other.size_kb == group.size_kb
                    && d.cheapest_stack() != decision.cheapest_stack()
            })
            .map(|(other, d)| {
                format!(
                    "{} under {}",
                    d.cheapest_stack().unwrap_or("-"),
                    other.net.as_deref().unwrap_or("loopback")
                )
            })
            .collect();
        if !changes.is_empty() {
            let line = format!(
                "the network changes the order: {} here, {}",
                decision.cheapest_stack().unwrap_or("-"),
                changes.join(", ")
            );
            decided[i].1.evidence.push(line);
        }
    }
    decided.into_iter().map(|(_, d)| d).collect()
}

/// Which layer explains most of `dear`'s extra server CPU per request
/// over `cheap`'s, from the trials' profiles (`--profile`): each layer's
/// CPU per request is the trial's CPU per request times its share.
fn explaining_layer(cheap: &[&Trial], dear: &[&Trial]) -> Option<(crate::profile::Category, f64)> {
    let per_layer = |trials: &[&Trial]| -> Option<Vec<(crate::profile::Category, f64)>> {
        let t = trials
            .iter()
            .find(|t| t.profile.is_some() && t.costs.server_cpu_ms_per_request.is_some())?;
        let cpu = t.costs.server_cpu_ms_per_request?;
        let profile = t.profile.as_ref()?;
        Some(
            profile
                .server
                .iter()
                .map(|share| (share.category, cpu * share.percent / 100.0))
                .collect(),
        )
    };
    let (cheap, dear) = (per_layer(cheap)?, per_layer(dear)?);
    let of = |layers: &[(crate::profile::Category, f64)], c| {
        layers
            .iter()
            .find(|(k, _)| *k == c)
            .map_or(0.0, |(_, v)| *v)
    };
    let extra: f64 =
        dear.iter().map(|(_, v)| v).sum::<f64>() - cheap.iter().map(|(_, v)| v).sum::<f64>();
    if extra <= 0.0 {
        return None;
    }
    crate::profile::Category::ALL
        .into_iter()
        .map(|c| (c, (of(&dear, c) - of(&cheap, c)) / extra))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .filter(|(_, share)| *share > 0.0)
}

fn median(values: &[f64]) -> Option<f64> {
    Spread::of(values).map(|s| s.median)
}

fn decide(result: &RunResult, group: &WorkloadGroup, view: &View) -> Option<Decision> {
    let trials: Vec<&Trial> = result
        .trials
        .iter()
        .filter(|t| WorkloadGroup::of(t) == *group && !t.interrupted && t.requests_ok > 0)
        .collect();
    let mut labels: Vec<String> = Vec::new();
    for trial in &trials {
        let label = group_label(result, trial);
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    let members = |label: &str| -> Vec<&Trial> {
        trials
            .iter()
            .copied()
            .filter(|t| group_label(result, t) == label)
            .collect()
    };
    // The TCP ceiling is a reference, not a choice: it is shown last and
    // sets neither the cheapest nor the default rate.
    let is_ceiling = |t: &Trial| t.stack.is_ceiling();
    let median_throughput = |label: &str| {
        median(
            &members(label)
                .iter()
                .map(|t| t.throughput_rps)
                .collect::<Vec<_>>(),
        )
        .unwrap_or(0.0)
    };
    let all_ceiling = trials.iter().all(|t| is_ceiling(t));
    // The highest of the configurations' typical (median) throughputs.
    let highest = labels
        .iter()
        .filter(|l| all_ceiling || !members(l).first().is_some_and(|t| is_ceiling(t)))
        .map(|l| median_throughput(l))
        .fold(0.0_f64, f64::max);
    let rate_rps = view.at_rate_rps.unwrap_or(highest);
    if labels.is_empty() {
        return None;
    }
    let mut gaps = Vec::new();
    let mut choices: Vec<Choice> = labels
        .iter()
        .map(|label| {
            let own = members(label);
            let cpu: Vec<f64> = own
                .iter()
                .filter_map(|t| t.costs.server_cpu_ms_per_request)
                .collect();
            let wire: Vec<f64> = own
                .iter()
                .filter_map(|t| {
                    Some(t.wire_bytes_sent_per_request? + t.wire_bytes_received_per_request?)
                })
                .collect();
            let throughput = median_throughput(label);
            let cpu = Spread::of(&cpu);
            let wire = median(&wire);
            Choice {
                label: label.clone(),
                stack: own[0].stack.name(),
                ceiling: is_ceiling(own[0]),
                trials: own.len(),
                throughput_rps: throughput,
                server_cpu_ms_per_request: cpu,
                against_cheapest: None,
                p50_us: median(
                    &own.iter()
                        .map(|t| t.latency_us.p50 as f64)
                        .collect::<Vec<_>>(),
                )
                .unwrap_or(0.0),
                p99_us: median(
                    &own.iter()
                        .map(|t| t.latency_us.p99 as f64)
                        .collect::<Vec<_>>(),
                )
                .unwrap_or(0.0),
                wire_bytes_per_request: wire,
                cores_at_rate: cpu.map(|c| cores_at(rate_rps, c.median)),
                mbit_s_at_rate: wire.map(|w| mbit_s_at(rate_rps, w)),
                beyond_measured: rate_rps > throughput * 1.0001,
            }
        })
        .collect();
    // Cheapest first; without a CPU reading, by throughput after them.
    choices.sort_by(|a, b| {
        if a.ceiling != b.ceiling {
            return a.ceiling.cmp(&b.ceiling);
        }
        match (&a.server_cpu_ms_per_request, &b.server_cpu_ms_per_request) {
            (Some(x), Some(y)) => x.median.total_cmp(&y.median),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => b.throughput_rps.total_cmp(&a.throughput_rps),
        }
    });
    if let Some(cheapest) = choices
        .first()
        .filter(|c| c.server_cpu_ms_per_request.is_some())
        .map(|c| c.label.clone())
    {
        let base = members(&cheapest);
        for choice in choices.iter_mut().filter(|c| c.label != cheapest) {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for t in members(&choice.label) {
                if let Some(pair) = base.iter().find(|p| p.repetition == t.repetition)
                    && let (Some(x), Some(y)) = (
                        t.costs.server_cpu_ms_per_request,
                        pair.costs.server_cpu_ms_per_request,
                    )
                {
                    a.push(x);
                    b.push(y);
                }
            }
            choice.against_cheapest = paired_ratio(&a, &b);
        }
    }
    // One line per cause, naming the configurations it concerns.
    let mut unprobed = Vec::new();
    let mut short: Vec<(String, evidence::Shortfall)> = Vec::new();
    let mut client_bound = Vec::new();
    let mut late = Vec::new();
    let mut noisy = Vec::new();
    let mut extrapolated = Vec::new();
    for choice in &choices {
        let own = members(&choice.label);
        let label = choice.label.clone();
        if choice.server_cpu_ms_per_request.is_none() {
            unprobed.push(label.clone());
        }
        if let Some(shortfall) = own
            .iter()
            .find_map(|t| evidence::throughput(t).err())
            .or_else(|| {
                own.iter()
                    .find_map(|t| evidence::server_cpu(t).and_then(Result::err))
            })
        {
            short.push((label.clone(), shortfall));
        }
        if own.iter().any(|t| t.costs.client_bound) {
            client_bound.push(label.clone());
        }
        if own.iter().any(|t| crate::lateness::material(t).is_some()) {
            late.push(label.clone());
        }
        if let Some(cpu) = &choice.server_cpu_ms_per_request
            && cpu.n > 1
            && cpu.median > 0.0
            && (cpu.max - cpu.min) / cpu.median > NOISY_SPREAD
        {
            noisy.push(format!(
                "{label} ({:.0}% over {} trials)",
                (cpu.max - cpu.min) / cpu.median * 100.0,
                cpu.n
            ));
        }
        if choice.beyond_measured {
            extrapolated.push(format!(
                "{label} ({} req/s)",
                crate::format::rate(choice.throughput_rps)
            ));
        }
    }
    let ranked: Vec<&String> = choices.iter().take(2).map(|c| &c.label).collect();
    let conclusive = !short.iter().any(|(label, _)| ranked.contains(&label))
        && !noisy
            .iter()
            .any(|n| ranked.iter().any(|l| n.starts_with(l.as_str())));
    if !unprobed.is_empty() {
        gaps.push(format!(
            "server CPU not measured for {} (servers wirebench did not start), so ranked by throughput; give `--server-pid` (or serve with `--metrics` and give `--server-metrics`)",
            unprobed.join(", ")
        ));
    }
    if !short.is_empty() {
        let longest = short
            .iter()
            .map(|(_, s)| s.needed_s)
            .fold(0.0_f64, f64::max);
        let which: Vec<String> = short
            .iter()
            .map(|(label, s)| format!("{label} ({})", s.had))
            .collect();
        gaps.push(format!(
            "too short to compare: {}; {}",
            which.join(", "),
            evidence::Shortfall {
                had: String::new(),
                needed_s: longest
            }
            .advice()
        ));
    }
    if !client_bound.is_empty() {
        gaps.push(format!(
            "the load generator, not the server, was the limit for {}: their throughput is a floor; give it more CPUs (--client-cpus) or fewer connections",
            client_bound.join(", ")
        ));
    }
    if !late.is_empty() {
        gaps.push(format!(
            "the load generator sent late for {}: their latency is partly its own; lower --rate or give it more CPUs",
            late.join(", ")
        ));
    }
    if !noisy.is_empty() {
        gaps.push(format!(
            "noisy server CPU per request: {}; run --trials 5",
            noisy.join(", ")
        ));
    }
    if !extrapolated.is_empty() {
        gaps.push(format!(
            "measured below {} req/s, so their cost there is extrapolated (*): {}; find each one's capacity with --find-capacity",
            crate::format::rate(rate_rps),
            extrapolated.join(", ")
        ));
    }
    if choices.len() > 1 && choices.iter().all(|c| c.trials < 2) {
        gaps.push(
            "one trial each: the ratios have no interval; run --trials 3 or more for one"
                .to_owned(),
        );
    }
    let mut evidence_lines: Vec<String> = result
        .capacity
        .iter()
        .filter(|c| labels.iter().any(|l| c.label.starts_with(l.as_str())))
        .map(|c| {
            format!(
                "capacity of {} at {}: {}",
                c.label,
                c.slo.join(", "),
                crate::capacity::interval_text(c)
            )
        })
        .collect();
    if group.size_kb.is_some() {
        evidence_lines.extend(crate::sweep::crossovers(result));
    }
    // The layer that explains the gap between the cheapest and the next.
    if let (Some(cheap), Some(next)) = (choices.first(), choices.get(1).filter(|c| !c.ceiling))
        && let Some((layer, share)) =
            explaining_layer(&members(&cheap.label), &members(&next.label))
    {
        evidence_lines.push(format!(
            "{}'s extra server CPU per request over {} is {:.0}% {} (from --profile)",
            next.label,
            cheap.label,
            share * 100.0,
            layer.title()
        ));
    }
    Some(Decision {
        workload: group.to_string(),
        rate_rps,
        rate_given: view.at_rate_rps.is_some(),
        choices,
        gaps,
        evidence: evidence_lines,
        conclusive,
    })
}

impl Decision {
    /// The stack of the cheapest configuration, when CPU was measured.
    pub fn cheapest_stack(&self) -> Option<&str> {
        self.choices
            .first()
            .filter(|c| c.server_cpu_ms_per_request.is_some())
            .map(|c| c.stack.as_str())
    }

    /// "At 12,345.6 req/s (the highest measured; costs assumed linear in
    /// rate, below the measured capacity):".
    pub fn rate_sentence(&self) -> String {
        let whose = if self.rate_given {
            "as asked"
        } else {
            "the highest measured"
        };
        format!(
            "at {} req/s ({whose}; cost assumed linear in rate, below the measured capacity)",
            crate::format::rate(self.rate_rps)
        )
    }

    /// The cheapest configuration in one sentence.
    pub fn headline(&self) -> String {
        let Some(first) = self.choices.first() else {
            return format!("{}: nothing was measured", self.workload);
        };
        let Some(cpu) = &first.server_cpu_ms_per_request else {
            return format!(
                "{}: {} served the most requests per second ({} req/s); server CPU was not measured",
                self.workload,
                first.label,
                crate::format::rate(first.throughput_rps)
            );
        };
        let mut sentence = format!(
            "{}: {} is the cheapest, {:.3} ms of server CPU per request",
            self.workload, first.label, cpu.median
        );
        if let (Some(cores), Some(mbit)) = (first.cores_at_rate, first.mbit_s_at_rate) {
            sentence.push_str(&format!(
                "; {}: {cores:.2} cores and {} Mbit/s",
                self.rate_sentence(),
                crate::format::rate(mbit)
            ));
        }
        if let Some(next) = self.choices.get(1).filter(|c| !c.ceiling)
            && let Some(ratio) = &next.against_cheapest
        {
            sentence.push_str(&format!(
                ". Next: {} at {} the CPU per request",
                next.label,
                ratio.cell()
            ));
        }
        if !self.conclusive {
            sentence.push_str(". Not conclusive: see what it does not cover below");
        }
        sentence.push('.');
        sentence
    }
}

/// The decision as a table: cheapest first, every figure with its unit.
pub fn grid(decision: &Decision) -> crate::grid::Grid {
    use crate::format;
    let rows = decision
        .choices
        .iter()
        .map(|c| {
            let dash = || "-".to_owned();
            vec![
                c.label.clone(),
                c.server_cpu_ms_per_request
                    .map_or_else(dash, |s| format!("{:.3} ms", s.median)),
                match (&c.against_cheapest, &c.server_cpu_ms_per_request) {
                    (Some(ratio), _) if c.ceiling => format!("ceiling, {}", ratio.cell()),
                    (Some(ratio), _) => ratio.cell(),
                    (None, Some(_)) if c.label == decision.choices[0].label => {
                        "cheapest".to_owned()
                    }
                    (None, _) if c.ceiling => "ceiling".to_owned(),
                    _ => dash(),
                },
                format::latency_us(c.p50_us.round() as u64),
                format::latency_us(c.p99_us.round() as u64),
                c.wire_bytes_per_request.map_or_else(dash, |b| {
                    format!("{} B", format::thousands(b.round() as u64))
                }),
                c.cores_at_rate.map_or_else(dash, |cores| {
                    format!("{cores:.2}{}", if c.beyond_measured { "*" } else { "" })
                }),
                c.mbit_s_at_rate.map_or_else(dash, format::rate),
            ]
        })
        .collect();
    crate::grid::Grid {
        header: vec![
            "stack",
            "srv CPU/req",
            "vs cheapest",
            "p50",
            "p99",
            "wire/req",
            "cores at rate",
            "Mbit/s at rate",
        ],
        rows,
        numeric_from: 1,
    }
}

/// The lines under a decision's table: the rate's assumption, what else
/// the run holds, and what the answer does not cover.
pub fn footnotes(decision: &Decision) -> Vec<String> {
    let mut lines = vec![format!("Costs {}.", decision.rate_sentence())];
    if decision.choices.iter().any(|c| c.beyond_measured) {
        lines
            .push("* above the rate that configuration was measured serving: extrapolated.".into());
    }
    lines.extend(decision.evidence.iter().cloned());
    lines.extend(
        decision
            .gaps
            .iter()
            .map(|gap| format!("Not covered: {gap}.")),
    );
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::result_fixture;

    #[test]
    fn costs_translate_to_the_users_rate_as_by_hand() {
        // 0.25 ms of CPU per request at 8,000 req/s: 2 cores. 3,000 bytes
        // per request at 8,000 req/s: 192 Mbit/s.
        assert!((cores_at(8_000.0, 0.25) - 2.0).abs() < 1e-12);
        assert!((mbit_s_at(8_000.0, 3_000.0) - 192.0).abs() < 1e-9);
    }

    #[test]
    fn the_cheapest_comes_first_and_the_rate_is_the_users() {
        let mut result = result_fixture();
        // Two stacks, one trial each: rest at 0.2 ms, grpc at 0.1 ms.
        result.trials.truncate(2);
        result.trials[0].costs.server_cpu_ms_per_request = Some(0.2);
        result.trials[1].costs.server_cpu_ms_per_request = Some(0.1);
        result.trials[0].wire_bytes_sent_per_request = Some(100.0);
        result.trials[0].wire_bytes_received_per_request = Some(900.0);
        result.trials[1].wire_bytes_sent_per_request = Some(50.0);
        result.trials[1].wire_bytes_received_per_request = Some(450.0);
        let view = View {
            at_rate_rps: Some(10_000.0),
            ..View::default()
        };
        let decisions = decisions(&result, &view);
        assert_eq!(decisions.len(), 1, "{decisions:?}");
        let d = &decisions[0];
        assert!(d.rate_given);
        let first = &d.choices[0];
        assert_eq!(first.stack, result.trials[1].stack.name());
        // By hand: 10,000 req/s × 0.1 ms = 1 core; × 500 B × 8 = 40 Mbit/s.
        assert!((first.cores_at_rate.unwrap() - 1.0).abs() < 1e-9);
        assert!((first.mbit_s_at_rate.unwrap() - 40.0).abs() < 1e-9);
        let second = &d.choices[1];
        assert!((second.cores_at_rate.unwrap() - 2.0).abs() < 1e-9);
        assert!((second.mbit_s_at_rate.unwrap() - 80.0).abs() < 1e-9);
        let ratio = second.against_cheapest.unwrap();
        assert!((ratio.ratio - 2.0).abs() < 1e-9, "{ratio:?}");
        assert!(d.headline().contains("1.00 cores"), "{}", d.headline());
    }

    #[test]
    fn the_layer_that_explains_the_gap_comes_from_the_profiles() {
        use crate::profile::{Category, Profile, Share};
        let mut result = result_fixture();
        // rest #1 and grpc #1 (the fixture's first trial is the ceiling).
        result.trials = result.trials[1..3].to_vec();
        let profile = |framing: f64| Profile {
            frequency_hz: 999,
            server_samples: 1000,
            client_samples: 1000,
            server: vec![
                Share {
                    category: Category::Framing,
                    percent: framing,
                },
                Share {
                    category: Category::Other,
                    percent: 100.0 - framing,
                },
            ],
            client: Vec::new(),
            folded: Vec::new(),
        };
        // Cheap: 0.1 ms, 20% framing (0.02). Dear: 0.2 ms, 60% framing
        // (0.12): of the 0.1 ms extra, 0.1 is framing and 0 other: 100%.
        result.trials[1].costs.server_cpu_ms_per_request = Some(0.1);
        result.trials[1].profile = Some(profile(20.0));
        result.trials[0].costs.server_cpu_ms_per_request = Some(0.2);
        result.trials[0].profile = Some(profile(60.0));
        let d = &decisions(&result, &View::default())[0];
        let line = d
            .evidence
            .iter()
            .find(|l| l.contains("from --profile"))
            .unwrap_or_else(|| panic!("{:?}", d.evidence));
        assert!(line.contains("100% HTTP/gRPC framing"), "{line}");
    }

    #[test]
    fn a_network_that_changes_the_cheapest_is_named() {
        let mut result = result_fixture();
        // rest #1 and grpc #1 on loopback (grpc cheaper), and again under
        // loss (rest cheaper).
        let mut trials = result.trials[1..3].to_vec();
        trials[0].costs.server_cpu_ms_per_request = Some(0.2);
        trials[1].costs.server_cpu_ms_per_request = Some(0.1);
        let mut lossy = trials.clone();
        for t in &mut lossy {
            t.net = Some("loss=1%".into());
        }
        lossy[0].costs.server_cpu_ms_per_request = Some(0.1);
        lossy[1].costs.server_cpu_ms_per_request = Some(0.3);
        trials.extend(lossy);
        result.trials = trials;
        let decisions = decisions(&result, &View::default());
        assert_eq!(decisions.len(), 2);
        let line = decisions[0]
            .evidence
            .iter()
            .find(|l| l.contains("the network changes the order"))
            .unwrap_or_else(|| panic!("{:?}", decisions[0].evidence));
        assert_eq!(
            line,
            "the network changes the order: grpc here, rest under loss=1%"
        );
    }

    #[test]
    fn without_a_rate_the_highest_measured_is_used_and_said() {
        let result = result_fixture();
        let decisions = decisions(&result, &View::default());
        for d in &decisions {
            assert!(!d.rate_given);
            let highest = result
                .trials
                .iter()
                .filter(|t| WorkloadGroup::of(t).to_string() == d.workload)
                .filter(|t| !t.stack.is_ceiling())
                .map(|t| t.throughput_rps)
                .fold(0.0, f64::max);
            // The highest configuration's median, at most its best trial.
            assert!(
                d.rate_rps > 0.0 && d.rate_rps <= highest,
                "{} {highest}",
                d.rate_rps
            );
            assert!(
                d.choices
                    .iter()
                    .any(|c| !c.ceiling && c.throughput_rps == d.rate_rps)
            );
            assert!(d.rate_sentence().contains("the highest measured"));
        }
    }
}
