//! The notes under a result, in plain words: where things ran, which
//! trials measured the load generator rather than the server, which CPU
//! figures are coarse, what the errors were, which thresholds failed.

use crate::format;
use crate::label::trial_label;
use crate::model::RunResult;
use crate::threshold::Threshold;

/// Below this window, CPU figures are coarse enough to say so.
const SHORT_WINDOW_S: f64 = 2.0;

pub fn notes(result: &RunResult) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(trial) = result.trials.iter().find(|t| t.placement.pinned) {
        let p = &trial.placement;
        let show = |set: &Option<wirebench_probe::CpuSet>| {
            set.as_ref().map_or("any".to_owned(), |s| s.to_string())
        };
        notes.push(format!(
            "placement: load generator on CPU {}, servers on CPU {}",
            show(&p.client_cpus),
            show(&p.server_cpus)
        ));
    }
    let mut paths: Vec<&str> = result
        .trials
        .iter()
        .filter_map(|t| t.network_path.as_deref())
        .collect();
    paths.dedup();
    if let [path] = paths[..] {
        notes.push(format!("network path: {path}"));
    }
    let tick_s = 1.0 / result.run.machine.clock_ticks_per_second.unwrap_or(100) as f64;
    for trial in &result.trials {
        let label = trial_label(result, trial);
        if !trial.processes.is_empty()
            && trial.duration_s > 0.0
            && trial.duration_s < SHORT_WINDOW_S
        {
            notes.push(format!(
                    "{label}: the window was {:.2} s and CPU counters tick every {:.0} ms: each process's CPU% is known to +-{:.0} points; run longer (-t 10s) to compare CPU",
                    trial.duration_s,
                    tick_s * 1000.0,
                    tick_s / trial.duration_s * 100.0,
                ));
        }
        for server in &trial.server_metrics {
            notes.push(format!(
                "{label}: server measured through {}: CPU {:.0}% ({:.2} s over {:.2} s){}{}",
                server.url,
                server.cpu_percent,
                server.cpu_s,
                server.window_s,
                server
                    .requests
                    .map_or(String::new(), |n| format!(", {n} requests handled")),
                server
                    .rss_bytes
                    .map_or(String::new(), |b| format!(", RSS {}", format::bytes(b))),
            ));
        }
        for agent in &trial.agents {
            notes.push(format!(
                "{label}: agent {} of {} on {}: {} ok, {} errors, {} connections, client CPU {:.0}%{}{}",
                agent.index,
                agent.count,
                agent.host,
                agent.requests_ok,
                agent.errors,
                agent.connections,
                agent.client_cpu_percent,
                agent
                    .start_lateness_ms
                    .map_or(String::new(), |ms| format!(", started {ms:.1} ms late")),
                if agent.client_bound {
                    ", client-bound: its share measured the agent"
                } else {
                    ""
                },
            ));
        }
        if trial.costs.client_bound {
            notes.push(format!(
                "{label}: {} (load generator CPU {:.0}%, its CPUs {:.0}% busy)",
                crate::costs::CLIENT_BOUND_SENTENCE,
                trial.costs.client_cpu_percent,
                trial.costs.client_cpus_busy_percent.unwrap_or(f64::NAN),
            ));
        }
        if trial.costs.server_saturated {
            notes.push(format!(
                "{label}: server saturated: the servers used {:.0}% CPU, all of their CPU set",
                trial.costs.server_cpu_percent
            ));
        }
        if let Some(uncorrected) = &trial.latency_uncorrected_us {
            notes.push(format!(
                    "{label}: latency from the intended send time (above); from the actual send time: p50 {}, p99 {}",
                    format::latency_us(uncorrected.p50),
                    format::latency_us(uncorrected.p99),
                ));
        }
        for (kind, example) in &trial.error_examples {
            notes.push(format!(
                "{label}: {} x {kind}, first: {example}",
                trial.errors[kind]
            ));
        }
        if let Some(streams) = trial.streams.as_ref().filter(|s| s.messages_received > 0) {
            notes.push(format!("{label}: {}", stream_sentence(streams)));
        }
        if let Some(backoff) = &trial.connect_backoff {
            notes.push(format!(
                "{label}: connections failed, so senders backed off {} times ({:.1} s in all; 10 ms doubling to 250 ms) rather than retry at once",
                backoff.waits, backoff.waited_s
            ));
        }
        for outcome in &trial.thresholds {
            let measured = outcome
                .threshold
                .parse::<Threshold>()
                .map(|t| t.show(outcome.value))
                .unwrap_or_default();
            let verdict = if outcome.passed { "met" } else { "FAILED" };
            notes.push(format!(
                "{label}: threshold {} {verdict} (measured {measured})",
                outcome.threshold
            ));
        }
    }
    notes
}

/// What a trial's streaming calls carried, and each answer's latency from
/// what it answers.
fn stream_sentence(streams: &crate::model::StreamStats) -> String {
    let latency = format!(
        "p50 {}, p99 {}",
        format::latency_us(streams.message_latency_us.p50),
        format::latency_us(streams.message_latency_us.p99)
    );
    let sending = match streams.interval_s {
        0.0 => format!("{} messages a call", streams.messages_per_call),
        s => format!(
            "{} messages a call, {} apart",
            streams.messages_per_call,
            format::latency_us((s * 1e6) as u64)
        ),
    };
    match streams.kind.as_str() {
        "server streaming" => format!(
            "server streaming: {} answer messages ({:.0}/s); each came {latency} after the one before it (the first: after the request)",
            streams.messages_received, streams.messages_received_per_s
        ),
        "client streaming" => format!(
            "client streaming, {sending}: {} messages sent; each answer came {latency} after the call's last message",
            streams.messages_sent
        ),
        kind => format!(
            "{kind}, {sending}: {} messages sent, {} received ({:.0}/s); each answer came {latency} after the message it answers",
            streams.messages_sent, streams.messages_received, streams.messages_received_per_s
        ),
    }
}
