//! `wirebench merge`: the results of N load agents, each of which ran one
//! shard of one plan (`--shard I/N`), added up exactly into one result.
//!
//! Exact because nothing is summarised before it is added: the latency
//! histograms (corrected and uncorrected) are HDR histograms stored
//! losslessly, decoded and added; counts, errors by kind and bytes are
//! summed; every bin of the timeline carries its own histogram in a
//! sharded run, so the merged timeline's p99 is that of all the agents'
//! requests of that second. The agents started at one instant
//! (`--start-at`), so their windows share one start, and the merged window
//! is the longest of theirs.
//!
//! Refused, with the reason: a result that is not a shard, results of
//! different plans, histograms of different settings, a shard twice or one
//! missing. What cannot be merged exactly is said: per-message latency of
//! streaming calls and the p99 of schedule steps are taken as the largest
//! of the agents' (an upper bound), and the profile is dropped.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::histogram::{self, DecodeError};
pub use crate::model::Agent;
use crate::model::{LatencySummary, RunResult, TimelinePoint, Trial};

impl Agent {
    /// The agent with what its trial measured: its connections, its
    /// good responses and errors, and its own CPU (`costs`).
    pub fn measured(
        self,
        connections: u32,
        requests_ok: u64,
        errors: u64,
        costs: &crate::model::Costs,
    ) -> Agent {
        Agent {
            connections,
            requests_ok,
            errors,
            client_cpu_percent: costs.client_cpu_percent,
            client_bound: costs.client_bound,
            ..self
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: give the agents' result files, or - for result documents on stdin")]
    Empty,
    #[error(
        "{name} is not the result of one agent of a sharded run (its trials list no agent): run each agent with --shard I/N or --shard auto/N"
    )]
    NotSharded { name: String },
    #[error("{name} and {first} ran different plans: {what}")]
    DifferentPlans {
        name: String,
        first: String,
        what: String,
    },
    #[error("{name} and {other} are both agent {index} of {count}")]
    Duplicate {
        name: String,
        other: String,
        index: u32,
        count: u32,
    },
    #[error(
        "{name}, trial {trial}: adding its {what} overflows: it is not a count an agent measured"
    )]
    Overflow {
        name: String,
        trial: usize,
        what: &'static str,
    },
    #[error("agent(s) {missing:?} of {count} are missing: merge all {count} results")]
    Missing { missing: Vec<u32>, count: u32 },
    #[error(
        "{name}, trial {trial}: its latency histogram has other settings ({theirs}) than the first agent's ({ours}): they cannot be added"
    )]
    HistogramSettings {
        name: String,
        trial: usize,
        theirs: String,
        ours: String,
    },
    #[error("{name}, trial {trial}: {error}")]
    Histogram {
        name: String,
        trial: usize,
        error: DecodeError,
    },
    #[error(
        "{name}, trial {trial}: its timeline has no per-bin histograms (a result of an older wirebench?): it cannot be merged exactly"
    )]
    NoTimelineHistograms { name: String, trial: usize },
}

/// Merges the agents' results (`name`: where each came from, for the
/// errors). `command_line` is the merge's own.
pub fn merge(
    inputs: Vec<(String, RunResult)>,
    command_line: Vec<String>,
) -> Result<RunResult, MergeError> {
    let mut agents = check_agents(&inputs)?;
    agents.sort_by_key(|(index, _)| *index);
    let ordered: Vec<&(String, RunResult)> = agents.iter().map(|(_, i)| &inputs[*i]).collect();
    let (first_name, first) = ordered[0];
    let plan = without_shard(&first.run.settings);
    for (name, result) in &ordered[1..] {
        let theirs = without_shard(&result.run.settings);
        if theirs != plan {
            let what = format!("settings differ: {}", first_difference(&plan, &theirs));
            return Err(different(name, first_name, &what));
        }
        if result.trials.len() != first.trials.len() {
            return Err(different(
                name,
                first_name,
                &format!(
                    "{} trials against {}",
                    result.trials.len(),
                    first.trials.len()
                ),
            ));
        }
    }
    let mut merged = RunResult::new(first.run.clone());
    merged.run.command_line = command_line;
    merged.run.settings = plan;
    merged.run.started_at = ordered
        .iter()
        .map(|(_, r)| r.run.started_at.clone())
        .min()
        .unwrap_or_default();
    merged.run.interrupted = ordered.iter().any(|(_, r)| r.run.interrupted);
    for j in 0..first.trials.len() {
        let trials: Vec<(&str, &Trial)> = ordered
            .iter()
            .map(|(name, r)| (name.as_str(), &r.trials[j]))
            .collect();
        merged.push_trial(merge_trial(j, &trials, first_name)?);
    }
    Ok(merged)
}

/// Each input's agent (index, input position), checked: one per input,
/// all of one count, none twice, none missing.
fn check_agents(inputs: &[(String, RunResult)]) -> Result<Vec<(u32, usize)>, MergeError> {
    let Some((first_name, _)) = inputs.first() else {
        return Err(MergeError::Empty);
    };
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    let mut count = None;
    for (i, (name, result)) in inputs.iter().enumerate() {
        let agent = result
            .trials
            .first()
            .and_then(|t| match t.agents.as_slice() {
                [one] => Some(one),
                _ => None,
            })
            .ok_or_else(|| MergeError::NotSharded { name: name.clone() })?;
        let count = *count.get_or_insert(agent.count);
        if agent.count != count {
            return Err(different(
                name,
                first_name,
                &format!("{} agents against {count}", agent.count),
            ));
        }
        if let Some(other) = seen.insert(agent.index, i) {
            return Err(MergeError::Duplicate {
                name: name.clone(),
                other: inputs[other].0.clone(),
                index: agent.index,
                count,
            });
        }
    }
    let count = count.expect("one input at least");
    let missing: Vec<u32> = (0..count).filter(|i| !seen.contains_key(i)).collect();
    if !missing.is_empty() {
        return Err(MergeError::Missing { missing, count });
    }
    Ok(seen.into_iter().collect())
}

fn different(name: &str, first: &str, what: &str) -> MergeError {
    MergeError::DifferentPlans {
        name: name.to_owned(),
        first: first.to_owned(),
        what: what.to_owned(),
    }
}

/// The settings without what is each agent's own: its shard (anywhere),
/// and where it ran (its CPUs and threads, which differ between hosts).
fn without_shard(settings: &serde_json::Value) -> serde_json::Value {
    const OWN: [&str; 5] = [
        "shard",
        "start_at",
        "client_threads",
        "client_cpus",
        "server_cpus",
    ];
    match settings {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.iter()
                .filter(|(key, _)| !OWN.contains(&key.as_str()))
                .map(|(key, value)| (key.clone(), without_shard(value)))
                .collect(),
        ),
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(without_shard).collect())
        }
        other => other.clone(),
    }
}

/// The first setting in which `a` and `b` differ, for the error.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value) -> String {
    match (a, b) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => a
            .keys()
            .chain(b.keys())
            .find(|key| a.get(*key) != b.get(*key))
            .map_or_else(String::new, |key| match (a.get(key), b.get(key)) {
                (Some(x), Some(y)) => {
                    let deeper = first_difference(x, y);
                    if deeper.is_empty() || !x.is_object() {
                        format!("{key}: {y} against {x}")
                    } else {
                        format!("{key}.{deeper}")
                    }
                }
                (x, y) => format!("{key}: {} against {}", show(y), show(x)),
            }),
        _ => String::new(),
    }
}

fn show(value: Option<&serde_json::Value>) -> String {
    value.map_or("absent".to_owned(), ToString::to_string)
}

/// What must be equal for two agents' trials to be parts of one: every
/// field that says what was run, none that says what was measured.
fn plan_of(trial: &Trial) -> serde_json::Value {
    serde_json::json!({
        "stack": trial.stack,
        "workload": trial.workload,
        "target": trial.target,
        "size_kb": trial.size_kb,
        "model": trial.model,
        "stop": trial.stop,
        "warmup_s": trial.warmup_s,
        "variant": trial.variant,
        "schedule": trial.schedule,
        "net": trial.net,
        "repetition": trial.repetition,
        "json_codec": trial.json_codec,
        "message": trial.message,
        "codegen": trial.codegen,
    })
}

fn merge_trial(j: usize, trials: &[(&str, &Trial)], first_name: &str) -> Result<Trial, MergeError> {
    let (_, first) = trials[0];
    let decode = |name: &str, text: &str| {
        histogram::decode(text).map_err(|error| MergeError::Histogram {
            name: name.to_owned(),
            trial: j,
            error,
        })
    };
    let mut latency = decode(first_name, &first.latency_histogram)?;
    let mut uncorrected = first
        .latency_uncorrected_histogram
        .as_deref()
        .map(|h| decode(first_name, h))
        .transpose()?;
    let mut lateness = first
        .send_lateness
        .as_ref()
        .map(|l| decode(first_name, &l.histogram))
        .transpose()?;
    let mut out = first.clone();
    out.agents = Vec::new();
    out.profile = None;
    out.thresholds = Vec::new();
    for (name, trial) in trials {
        if plan_of(trial) != plan_of(first) {
            return Err(different(
                name,
                first_name,
                &format!("trial {j} is {} against {}", plan_of(trial), plan_of(first)),
            ));
        }
        out.agents.extend(trial.agents.iter().cloned());
        if std::ptr::eq(*trial, first) {
            continue;
        }
        let theirs = decode(name, &trial.latency_histogram)?;
        same_settings(&latency, &theirs, name, j)?;
        latency.add(&theirs).expect("settings checked");
        if let (Some(ours), Some(theirs)) = (&mut uncorrected, &trial.latency_uncorrected_histogram)
        {
            let theirs = decode(name, theirs)?;
            same_settings(ours, &theirs, name, j)?;
            ours.add(&theirs).expect("settings checked");
        }
        if let (Some(ours), Some(theirs)) = (&mut lateness, &trial.send_lateness) {
            let histogram = decode(name, &theirs.histogram)?;
            same_settings(ours, &histogram, name, j)?;
            ours.add(&histogram).expect("settings checked");
            if let Some(out) = &mut out.send_lateness {
                out.due_while_busy += theirs.due_while_busy;
            }
        }
        // Counts that overflow are not counts: refused, never wrapped.
        let add = |sum: u64, more: u64, what: &'static str| {
            sum.checked_add(more).ok_or_else(|| MergeError::Overflow {
                name: name.to_string(),
                trial: j,
                what,
            })
        };
        out.requests_ok = add(out.requests_ok, trial.requests_ok, "requests_ok")?;
        for (kind, n) in &trial.errors {
            let sum = out.errors.entry(kind.clone()).or_default();
            *sum = add(*sum, *n, "errors")?;
        }
        for (kind, example) in &trial.error_examples {
            out.error_examples
                .entry(kind.clone())
                .or_insert_with(|| example.clone());
        }
        for (code, n) in &trial.error_codes {
            let sum = out.error_codes.entry(code.clone()).or_default();
            *sum = add(*sum, *n, "error_codes")?;
        }
        out.bytes_received = add(out.bytes_received, trial.bytes_received, "bytes_received")?;
        out.wire_bytes_sent = add(
            out.wire_bytes_sent,
            trial.wire_bytes_sent,
            "wire_bytes_sent",
        )?;
        out.wire_bytes_received = add(
            out.wire_bytes_received,
            trial.wire_bytes_received,
            "wire_bytes_received",
        )?;
        out.connections += trial.connections;
        out.duration_s = out.duration_s.max(trial.duration_s);
        out.interrupted |= trial.interrupted;
        out.processes.extend(
            trial
                .processes
                .iter()
                .filter(|p| p.role == wirebench_probe::ProcessRole::Client)
                .cloned(),
        );
        out.costs.client_cpu_percent += trial.costs.client_cpu_percent;
        out.costs.client_bound |= trial.costs.client_bound;
        merge_steps(&mut out, trial);
        if let (Some(ours), Some(theirs)) = (&mut out.streams, &trial.streams) {
            ours.messages_sent += theirs.messages_sent;
            ours.messages_received += theirs.messages_received;
            ours.message_latency_us = larger(ours.message_latency_us, theirs.message_latency_us);
        }
    }
    out.timeline = merge_timelines(j, trials)?;
    let attempts = out.requests_ok + out.errors.values().sum::<u64>();
    let per = |total: u64| (attempts > 0).then(|| total as f64 / attempts as f64);
    out.error_rate = if attempts == 0 {
        0.0
    } else {
        out.errors_total() as f64 / attempts as f64
    };
    out.throughput_rps = rate(out.requests_ok, out.duration_s);
    out.throughput_mb_s = rate(out.bytes_received, out.duration_s) / 1e6;
    out.wire_bytes_sent_per_request = per(out.wire_bytes_sent);
    out.wire_bytes_received_per_request = per(out.wire_bytes_received);
    if let Some(streams) = &mut out.streams {
        streams.messages_received_per_s = rate(streams.messages_received, out.duration_s);
    }
    out.latency_us = LatencySummary::from_histogram(&latency);
    out.latency_histogram = histogram::encode(&latency);
    out.latency_uncorrected_us = uncorrected.as_ref().map(LatencySummary::from_histogram);
    out.latency_uncorrected_histogram = uncorrected.as_ref().map(histogram::encode);
    if let (Some(out), Some(merged)) = (&mut out.send_lateness, &lateness) {
        out.lateness_us = LatencySummary::from_histogram(merged);
        out.histogram = histogram::encode(merged);
    }
    let ok = out.requests_ok.max(1) as f64;
    out.costs.client_cpu_ms_per_request =
        Some(out.costs.client_cpu_percent / 100.0 * out.duration_s * 1e3 / ok);
    out.costs.server_cpu_ms_per_request = (out.costs.server_cpu_percent > 0.0)
        .then(|| out.costs.server_cpu_percent / 100.0 * out.duration_s * 1e3 / ok);
    out.costs.requests_per_server_cpu_second =
        out.costs.server_cpu_ms_per_request.map(|ms| 1e3 / ms);
    out.costs.requests_per_client_cpu_second =
        out.costs.client_cpu_ms_per_request.map(|ms| 1e3 / ms);
    out.calls = merge_calls(j, trials, out.duration_s)?;
    Ok(out)
}

/// A mix's calls, each added over the agents: counts and bytes summed,
/// histograms added (the agents picked from one sequence, so each call's
/// counts are the sum of the agents').
fn merge_calls(
    j: usize,
    trials: &[(&str, &Trial)],
    duration_s: f64,
) -> Result<Vec<crate::model::CallResult>, MergeError> {
    let (first_name, first) = trials[0];
    let mut calls = first.calls.clone();
    let mut latencies = Vec::new();
    for call in &calls {
        latencies.push(histogram::decode(&call.latency_histogram).map_err(|error| {
            MergeError::Histogram {
                name: first_name.to_owned(),
                trial: j,
                error,
            }
        })?);
    }
    for (name, trial) in &trials[1..] {
        let names = |t: &Trial| t.calls.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        if names(trial) != names(first) {
            return Err(different(
                name,
                first_name,
                &format!(
                    "trial {j}'s calls are {:?} against {:?}",
                    names(trial),
                    names(first)
                ),
            ));
        }
        for ((ours, latency), theirs) in calls.iter_mut().zip(&mut latencies).zip(&trial.calls) {
            let h = histogram::decode(&theirs.latency_histogram).map_err(|error| {
                MergeError::Histogram {
                    name: (*name).to_owned(),
                    trial: j,
                    error,
                }
            })?;
            same_settings(latency, &h, name, j)?;
            latency.add(&h).expect("settings checked");
            ours.requests_ok += theirs.requests_ok;
            ours.bytes_received += theirs.bytes_received;
            ours.wire_bytes_sent += theirs.wire_bytes_sent;
            ours.wire_bytes_received += theirs.wire_bytes_received;
            for (kind, n) in &theirs.errors {
                *ours.errors.entry(kind.clone()).or_default() += n;
            }
        }
    }
    for (call, latency) in calls.iter_mut().zip(&latencies) {
        let attempts = call.attempts();
        call.error_rate = if attempts == 0 {
            0.0
        } else {
            (attempts - call.requests_ok) as f64 / attempts as f64
        };
        call.throughput_rps = rate(call.requests_ok, duration_s);
        call.latency_us = LatencySummary::from_histogram(latency);
        call.latency_histogram = histogram::encode(latency);
    }
    Ok(calls)
}

fn rate(count: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

fn same_settings(
    ours: &Histogram<u64>,
    theirs: &Histogram<u64>,
    name: &str,
    trial: usize,
) -> Result<(), MergeError> {
    let settings =
        |h: &Histogram<u64>| format!("{}..{} us, {} digits", h.low(), h.high(), h.sigfig());
    if settings(ours) == settings(theirs) {
        Ok(())
    } else {
        Err(MergeError::HistogramSettings {
            name: name.to_owned(),
            trial,
            theirs: settings(theirs),
            ours: settings(ours),
        })
    }
}

/// Each second of the agents' timelines added: counts summed, the p99 of
/// the second's histograms added.
fn merge_timelines(j: usize, trials: &[(&str, &Trial)]) -> Result<Vec<TimelinePoint>, MergeError> {
    let seconds = trials
        .iter()
        .map(|(_, t)| t.timeline.len())
        .max()
        .unwrap_or(0);
    let mut merged = Vec::with_capacity(seconds);
    for k in 0..seconds {
        let mut point = TimelinePoint {
            t_s: 0.0,
            requests_ok: 0,
            errors: 0,
            p99_us: 0,
            latency_histogram: None,
        };
        let mut histogram: Option<Histogram<u64>> = None;
        for (name, trial) in trials {
            let Some(theirs) = trial.timeline.get(k) else {
                continue;
            };
            let encoded = theirs.latency_histogram.as_deref().ok_or_else(|| {
                MergeError::NoTimelineHistograms {
                    name: (*name).to_owned(),
                    trial: j,
                }
            })?;
            let decoded = histogram::decode(encoded).map_err(|error| MergeError::Histogram {
                name: (*name).to_owned(),
                trial: j,
                error,
            })?;
            match &mut histogram {
                Some(h) => {
                    same_settings(h, &decoded, name, j)?;
                    h.add(&decoded).expect("settings checked");
                }
                None => histogram = Some(decoded),
            }
            point.t_s = point.t_s.max(theirs.t_s);
            point.requests_ok += theirs.requests_ok;
            point.errors += theirs.errors;
        }
        if let Some(h) = histogram {
            point.p99_us = if h.is_empty() {
                0
            } else {
                h.value_at_quantile(0.99)
            };
            point.latency_histogram = Some(histogram::encode(&h));
        }
        merged.push(point);
    }
    Ok(merged)
}

/// Schedule steps: counts summed; the p99 is the largest agent's (an
/// upper bound: steps carry no histogram).
fn merge_steps(out: &mut Trial, trial: &Trial) {
    for (ours, theirs) in out.steps.iter_mut().zip(&trial.steps) {
        ours.requests_ok += theirs.requests_ok;
        ours.errors += theirs.errors;
        ours.throughput_rps = ours.requests_ok as f64 / (ours.to_s - ours.from_s).max(1e-9);
        ours.p99_us = ours.p99_us.max(theirs.p99_us);
    }
}

/// Percentiles no histogram was kept for: the larger of each (an upper
/// bound), the mean of the means.
fn larger(a: LatencySummary, b: LatencySummary) -> LatencySummary {
    LatencySummary {
        min: a.min.min(b.min),
        mean: (a.mean + b.mean) / 2.0,
        p50: a.p50.max(b.p50),
        p90: a.p90.max(b.p90),
        p99: a.p99.max(b.p99),
        p999: a.p999.max(b.p999),
        max: a.max.max(b.max),
    }
}
