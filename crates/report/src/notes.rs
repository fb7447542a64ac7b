//! The notes under a result, in plain words: where things ran, which
//! trials measured the load generator rather than the server, which CPU
//! figures are coarse, what the errors were, which thresholds failed.

use crate::format;
use crate::label::trial_label;
use crate::model::RunResult;
use crate::threshold::Threshold;

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
    if result.trials.iter().any(|t| !t.calls.is_empty()) {
        notes.push(
            "a mix: each call's requests, latency and wire bytes are its own; server CPU is the whole mix's (calls share the servers' processes, so it is not split per call), and the verdict compares the whole mix; each call has its own connections".to_owned(),
        );
    }
    notes.extend(by_cause(result));
    notes.extend(errors_by_kind(result));
    for trial in &result.trials {
        let label = trial_label(result, trial);
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
        if let Some(streams) = trial.streams.as_ref().filter(|s| s.messages_received > 0) {
            notes.push(format!("{label}: {}", stream_sentence(streams)));
        }
        if let Some(backoff) = &trial.connect_backoff {
            notes.push(format!(
                "{label}: {} connection attempts failed; senders backed off {} times ({:.1} s in all), one attempt at a time per connection, 10 ms doubling to 250 ms apart",
                backoff.failed_attempts, backoff.waits, backoff.waited_s
            ));
        }
        if let Some(lost) = &trial.aborted {
            notes.push(format!(
                "{label}: stopped early by --abort-on-fail ({lost}); its figures are of the shorter window"
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

/// One note per kind of error, naming the trials it happened in with
/// their counts, and its first message: "status in 2 of 6 trials (rest #1:
/// 20, grpc #1: 5); first: ...".
fn errors_by_kind(result: &RunResult) -> Vec<String> {
    let mut kinds: Vec<&str> = Vec::new();
    for trial in &result.trials {
        for kind in trial.errors.keys() {
            if !kinds.contains(&kind.as_str()) {
                kinds.push(kind);
            }
        }
    }
    kinds
        .into_iter()
        .map(|kind| {
            let with: Vec<&crate::model::Trial> = result
                .trials
                .iter()
                .filter(|t| t.errors.contains_key(kind))
                .collect();
            let counts: Vec<String> = with
                .iter()
                .map(|t| {
                    format!(
                        "{}: {}",
                        trial_label(result, t),
                        format::thousands(t.errors[kind])
                    )
                })
                .collect();
            let first = with
                .iter()
                .find_map(|t| t.error_examples.get(kind))
                .map_or(String::new(), |e| format!("; first: {e}"));
            format!(
                "{kind} in {} of {} trials ({}){first}",
                with.len(),
                result.trials.len(),
                counts.join(", ")
            )
        })
        .collect()
}

/// One note per cause that limits what the trials say, naming the
/// trials it concerns: "client-bound in 6 of 24 trials (rest #1, ...):
/// ...".
fn by_cause(result: &RunResult) -> Vec<String> {
    type Check = fn(&crate::model::Trial) -> Option<String>;
    let causes: [(&str, Check); 6] = [
        ("client-bound", |t| {
            t.costs.client_bound.then(|| {
                format!(
                    "load generator CPU {:.0}%, its CPUs {:.0}% busy",
                    t.costs.client_cpu_percent,
                    t.costs.client_cpus_busy_percent.unwrap_or(f64::NAN)
                )
            })
        }),
        ("the load generator sent late", crate::lateness::material),
        ("the in-flight bound was reached", crate::lateness::behind),
        ("server saturated", |t| {
            t.costs.server_saturated.then(|| {
                format!(
                    "the servers used {:.0}% CPU, all of their CPU set",
                    t.costs.server_cpu_percent
                )
            })
        }),
        ("too short to compare throughput", |t| {
            crate::evidence::throughput(t)
                .err()
                .map(|s| format!("{}; {}", s.had, s.advice()))
        }),
        ("too short to compare server CPU", |t| {
            crate::evidence::server_cpu(t)?
                .err()
                .map(|s| format!("{}; {}", s.had, s.advice()))
        }),
    ];
    let total = result.trials.len();
    let mut notes = Vec::new();
    for (cause, check) in causes {
        // "Too short to compare" speaks only where there is a comparison.
        if cause.starts_with("too short") && total < 2 {
            continue;
        }
        let hits: Vec<(String, String)> = result
            .trials
            .iter()
            .filter_map(|t| check(t).map(|why| (trial_label(result, t), why)))
            .collect();
        let Some((_, first_why)) = hits.first() else {
            continue;
        };
        let meaning = match cause {
            "client-bound" => ": these numbers measure the load generator, not the server",
            "the load generator sent late" => ": the latency is partly the generator's",
            "the in-flight bound was reached" => {
                ": they waited for a sender, and their latency from the due time says so; raise -c if the server keeps up, and see client-bound above if the generator did not"
            }
            _ => "",
        };
        let names: Vec<&str> = hits.iter().map(|(label, _)| label.as_str()).collect();
        notes.push(if total == 1 {
            format!("{}: {cause} ({first_why}){meaning}", names[0])
        } else {
            format!(
                "{cause} in {} of {total} trials ({}){meaning}; first: {first_why}",
                hits.len(),
                names.join(", ")
            )
        });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::result_fixture;

    #[test]
    fn errors_make_one_note_per_kind_naming_the_trials_and_counts() {
        let mut result = result_fixture();
        for (i, n) in [(1, 20), (2, 5)] {
            result.trials[i].errors.insert("status".into(), n);
            result.trials[i]
                .error_examples
                .insert("status".into(), format!("HTTP 503 #{i}"));
        }
        let notes = notes(&result);
        let status: Vec<&String> = notes
            .iter()
            .filter(|n| n.starts_with("status in"))
            .collect();
        assert_eq!(status.len(), 1, "{notes:#?}");
        assert_eq!(
            status[0],
            "status in 2 of 6 trials (rest #1: 20, grpc #1: 5); first: HTTP 503 #1"
        );
    }
}
