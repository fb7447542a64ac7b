//! The answer under the table, in sentences: per workload group (the
//! same workload, message, size and network: never two different
//! workloads in one ratio), which configuration served more, at what
//! latency, and which served more per server CPU-second; with intervals
//! only from three paired trials on (a range below), no ratio from a trial
//! too short to hold one ([`crate::evidence`]), no latency ranking where
//! the load generator sent late ([`crate::lateness`]), and a warning when
//! the load generator, not the server, was the limit.

use crate::evidence::{self, Shortfall};
use crate::format;
use crate::label::{ServerConfig, WorkloadGroup, group_label, trial_label, workload_groups};
use crate::model::{GroupRatio, RunResult, Trial};

/// With repeated trials or more than two configurations in the group:
/// each against the group's baseline, one clause each (with the interval
/// the pairs allow), and one warning when the load generator was the
/// limit.
fn against_baseline(result: &RunResult, trials: &[&Trial]) -> Option<Vec<String>> {
    let summary = result.summary.as_ref()?;
    let labels: Vec<String> = summary
        .groups
        .iter()
        .filter(|g| trials.iter().any(|t| group_label(result, t) == g.label))
        .map(|g| g.label.clone())
        .collect();
    let ratios: Vec<&GroupRatio> = summary
        .ratios
        .iter()
        .filter(|r| labels.contains(&r.numerator))
        .collect();
    let repeated = ratios.iter().any(|r| r.throughput.pairs > 1);
    if !(repeated || labels.len() > 2) {
        return None;
    }
    let members = |label: &str| -> Vec<&Trial> {
        trials
            .iter()
            .copied()
            .filter(|t| group_label(result, t) == label && !t.interrupted)
            .collect()
    };
    let mut sentences: Vec<String> = ratios
        .iter()
        .map(|r| {
            let both: Vec<&Trial> = members(&r.numerator)
                .into_iter()
                .chain(members(&r.denominator))
                .collect();
            let mut sentence = match first_shortfall(&both, evidence::throughput) {
                Some(short) => format!(
                    "{} against {}: too short to compare throughput ({}; {})",
                    r.numerator,
                    r.denominator,
                    short.had,
                    short.advice()
                ),
                None => format!(
                    "{} served {} the requests per second of {}",
                    r.numerator,
                    r.throughput.text(),
                    r.denominator
                ),
            };
            if let Some(cpu) = &r.requests_per_server_cpu_second {
                match first_shortfall(&both, |t| evidence::server_cpu(t).unwrap_or(Ok(()))) {
                    Some(short) => sentence.push_str(&format!(
                        "; server CPU too short to compare ({}; {})",
                        short.had,
                        short.advice()
                    )),
                    None => sentence.push_str(&format!(
                        ", and {} the requests per server CPU-second",
                        cpu.text()
                    )),
                }
            }
            sentence.push('.');
            sentence
        })
        .collect();
    sentences.extend(limits(result, trials));
    Some(sentences)
}

/// The first of `trials` that holds too little for `check`.
fn first_shortfall(
    trials: &[&Trial],
    check: impl Fn(&Trial) -> Result<(), Shortfall>,
) -> Option<Shortfall> {
    trials.iter().find_map(|t| check(t).err())
}

/// Which configurations of `trials` the load generator limited: it ran
/// out of CPU, or it sent late.
fn limits(result: &RunResult, trials: &[&Trial]) -> Vec<String> {
    let mut bound: Vec<String> = Vec::new();
    let mut late: Vec<String> = Vec::new();
    for t in trials {
        let label = group_label(result, t);
        if t.costs.client_bound && !bound.contains(&label) {
            bound.push(label.clone());
        }
        if crate::lateness::material(t).is_some() && !late.contains(&label) {
            late.push(label);
        }
    }
    let mut sentences = Vec::new();
    if !bound.is_empty() {
        sentences.push(format!(
            "The load generator was the limit for {}: those throughputs say more about the client than the servers.",
            bound.join(", ")
        ));
    }
    if !late.is_empty() {
        sentences.push(format!(
            "The load generator sent late for {}: their latency is partly its own, so it ranks nothing.",
            late.join(", ")
        ));
    }
    sentences
}

/// The run's verdict, what reflection cost where a message was served
/// dynamic, and which JSON codec served the JSON stacks.
pub fn verdict(result: &RunResult) -> Vec<String> {
    let mut sentences = comparisons(result);
    sentences.extend(crate::codegen::sentences(result));
    sentences.extend(codecs(result));
    sentences.extend(tunings(result));
    sentences
}

/// What each stack started by wirebench was tuned with, where the stacks
/// differ (docs/tuning.md): a comparison is fair only if the reader can
/// see that every stack was served as an expert would serve it.
fn tunings(result: &RunResult) -> Option<String> {
    use wirebench_proto::vocab::Workload;
    // Servers wirebench started: their settings are known.
    let ours: Vec<&crate::Trial> = result
        .trials
        .iter()
        .filter(|t| t.server_workers.is_some())
        .collect();
    if ours.is_empty() {
        return None;
    }
    let names = |wanted: &dyn Fn(&crate::Trial) -> bool| {
        let mut names: Vec<String> = Vec::new();
        for trial in ours.iter().filter(|t| wanted(t)) {
            let name = trial.stack.name();
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    };
    let mut clauses = vec!["every server and the load generator allocate with mimalloc".to_owned()];
    let http2 = names(&|t| t.stack.is_http2());
    if !http2.is_empty() {
        clauses.push(format!("HTTP/2 ({}) takes 1 MiB frames", http2.join(", ")));
    }
    let rest_h2 = names(&|t| t.stack.is_rest() && t.stack.is_http2());
    if !rest_h2.is_empty() {
        clauses.push(format!(
            "{} has gRPC's flow-control windows",
            rest_h2.join(", ")
        ));
    }
    let quic = names(&|t| t.stack.is_quic());
    if !quic.is_empty() {
        clauses.push(format!(
            "{} runs quinn's defaults on both ends but the congestion control, the kernel TCP's (the trial's wire says which)",
            quic.join(", ")
        ));
    }
    let web = names(&|t| t.stack.is_grpc_web() && t.workload == Workload::Pipeline);
    if !web.is_empty() {
        clauses.push(format!(
            "the pipeline over {} speaks gRPC-Web to the client only, gRPC between services",
            web.join(", ")
        ));
    }
    let compressed = names(&|t| t.stack.compression.is_some());
    if !compressed.is_empty() {
        clauses.push(format!(
            "{} compress every body (gzip level 6, zstd level 3: tonic's fixed levels, used by every side)",
            compressed.join(", ")
        ));
    }
    let rest_bodies =
        names(&|t| t.stack.is_rest() && t.stack.speaks_json() && t.workload == Workload::Payload);
    if !rest_bodies.is_empty() {
        clauses.push(format!(
            "{} builds its JSON body in one buffer of its final size",
            rest_bodies.join(", ")
        ));
    }
    let pipeline_grpc = names(&|t| {
        t.stack.is_grpc()
            && t.stack.is_http2()
            && !t.stack.speaks_json()
            && t.workload == Workload::Pipeline
    });
    if !pipeline_grpc.is_empty() {
        clauses.push(format!(
            "the pipeline over {} encodes its records through a Vec, not tonic's frame buffer",
            pipeline_grpc.join(", ")
        ));
    }
    Some(format!("Tuning (docs/tuning.md): {}.", clauses.join("; ")))
}

/// "JSON (rest, grpc-json) encoded and decoded by serde_json.": a JSON
/// stack's figures are its codec's as much as its protocol's.
fn codecs(result: &RunResult) -> Option<String> {
    let mut codecs: Vec<&str> = Vec::new();
    let mut stacks: Vec<String> = Vec::new();
    for trial in &result.trials {
        if let Some(codec) = &trial.json_codec {
            if !codecs.contains(&codec.as_str()) {
                codecs.push(codec);
            }
            let stack = trial.stack.name();
            if !stacks.contains(&stack) {
                stacks.push(stack);
            }
        }
    }
    (!codecs.is_empty()).then(|| {
        format!(
            "JSON ({}) encoded and decoded by {}.",
            stacks.join(", "),
            codecs.join(" and ")
        )
    })
}

/// Per workload group: one sentence per server configuration, or per
/// configuration against the group's baseline with intervals when trials
/// were repeated. Several groups: each sentence names its group.
fn comparisons(result: &RunResult) -> Vec<String> {
    let capacity = crate::capacity::verdict(result);
    if !capacity.is_empty() {
        return capacity;
    }
    let sweep = crate::sweep::crossovers(result);
    if !sweep.is_empty() {
        return sweep;
    }
    let groups = workload_groups(result);
    let named = groups.len() > 1;
    groups
        .iter()
        .filter_map(|group| {
            let trials: Vec<&Trial> = result
                .trials
                .iter()
                .filter(|t| WorkloadGroup::of(t) == *group)
                .collect();
            let sentences = against_baseline(result, &trials)
                .unwrap_or_else(|| by_server_config(result, &trials));
            (!sentences.is_empty()).then(|| {
                let text = sentences.join(" ");
                if named {
                    format!("{group}: {text}")
                } else {
                    text
                }
            })
        })
        .collect()
}

/// Within one workload group, per server configuration: its first trial
/// against each of the others.
fn by_server_config(result: &RunResult, trials: &[&Trial]) -> Vec<String> {
    let mut configs: Vec<ServerConfig> = Vec::new();
    for t in trials {
        let key = ServerConfig::of(t);
        if !configs.contains(&key) {
            configs.push(key);
        }
    }
    let labelled = configs.len() > 1;
    configs
        .into_iter()
        .filter_map(|key| {
            let group: Vec<&Trial> = trials
                .iter()
                .copied()
                .filter(|t| ServerConfig::of(t) == key)
                .collect();
            let sentence = compare(result, &group)?;
            let started = key.workers.is_some() && key.processes.is_some();
            Some(if labelled && started {
                format!("{key}: {sentence}")
            } else {
                sentence
            })
        })
        .collect()
}

fn compare(result: &RunResult, group: &[&Trial]) -> Option<String> {
    let (&first, rest) = group.split_first()?;
    if rest.is_empty() {
        return Some(single(result, first));
    }
    // The first trial against each of the others.
    let sentences: Vec<String> = rest
        .iter()
        .map(|&other| compare_pair(result, first, other))
        .collect();
    Some(sentences.join(" "))
}

fn compare_pair(result: &RunResult, first: &Trial, other: &Trial) -> String {
    let label = |t: &Trial| trial_label(result, t);
    let (fast, slow) = if first.throughput_rps >= other.throughput_rps {
        (first, other)
    } else {
        (other, first)
    };
    if slow.requests_ok == 0 {
        return format!(
            "{} got no good response; {} served {} req/s.",
            label(slow),
            label(fast),
            format::rate(fast.throughput_rps)
        );
    }
    let errors = match (fast.errors_total(), slow.errors_total()) {
        (0, 0) => "both with 0 errors".to_owned(),
        (a, b) => format!("errors: {} {a}, {} {b}", label(fast), label(slow)),
    };
    let latency =
        if crate::lateness::material(fast).is_some() || crate::lateness::material(slow).is_some() {
            "latency not ranked: the load generator sent late".to_owned()
        } else {
            format!(
                "p50 {} vs {}, p99 {} vs {}",
                format::latency_us(fast.latency_us.p50),
                format::latency_us(slow.latency_us.p50),
                format::latency_us(fast.latency_us.p99),
                format::latency_us(slow.latency_us.p99),
            )
        };
    let mut sentence = match first_shortfall(&[fast, slow], evidence::throughput) {
        None => format!(
            "{} served {:.2}x the requests per second of {} ({latency}), {errors}.",
            label(fast),
            fast.throughput_rps / slow.throughput_rps,
            label(slow),
        ),
        Some(short) => format!(
            "{} and {}: too short to compare throughput ({}; {}); {} req/s vs {} ({latency}), {errors}.",
            label(fast),
            label(slow),
            short.had,
            short.advice(),
            format::rate(fast.throughput_rps),
            format::rate(slow.throughput_rps),
        ),
    };
    if let (Some(a), Some(b)) = (
        first.costs.requests_per_server_cpu_second,
        other.costs.requests_per_server_cpu_second,
    ) {
        let cpu_short = first_shortfall(&[first, other], |t| {
            evidence::server_cpu(t).unwrap_or(Ok(()))
        });
        let ((lean, lean_rate), (heavy, heavy_rate)) = if a >= b {
            ((first, a), (other, b))
        } else {
            ((other, b), (first, a))
        };
        match cpu_short {
            None => sentence.push_str(&format!(
                " {} served {:.2}x the requests per server CPU-second of {} ({} vs {}).",
                label(lean),
                lean_rate / heavy_rate,
                label(heavy),
                format::rate(lean_rate),
                format::rate(heavy_rate),
            )),
            Some(short) => sentence.push_str(&format!(
                " Server CPU too short to compare ({}; {}).",
                short.had,
                short.advice()
            )),
        }
    }
    if fast.costs.client_bound || slow.costs.client_bound {
        sentence.push_str(" The load generator was the limit in at least one trial: the throughput ratio says more about the client than the servers.");
    }
    sentence
}

fn single(result: &RunResult, t: &Trial) -> String {
    let label = |t: &Trial| trial_label(result, t);
    if t.requests_ok == 0 {
        return format!(
            "{} answered no request well: {} errors, no latency to report.",
            label(t),
            t.errors_total()
        );
    }
    format!(
        "{} served {} req/s with p50 {} and {} errors.",
        label(t),
        format::rate(t.throughput_rps),
        format::latency_us(t.latency_us.p50),
        t.errors_total()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests::result_fixture;
    use wirebench_proto::vocab::Workload;

    /// rest and grpc, each on two messages and two directions, `reps`
    /// times, from the fixture's trials.
    fn message_run(reps: u32) -> RunResult {
        let fixture = result_fixture();
        let rest = fixture
            .trials
            .iter()
            .find(|t| t.stack.name() == "rest")
            .unwrap();
        let grpc = fixture
            .trials
            .iter()
            .find(|t| t.stack.name() == "grpc")
            .unwrap();
        let mut result = RunResult::new(fixture.run.clone());
        for repetition in 0..reps {
            for message in ["order down", "order up", "text down", "text up"] {
                for (base, speed) in [
                    (rest, 1.0),
                    (
                        grpc,
                        if message.starts_with("text") {
                            0.5
                        } else {
                            2.0
                        },
                    ),
                ] {
                    let mut t = base.clone();
                    t.workload = Workload::Message;
                    t.size_kb = None;
                    t.message = Some(message.to_owned());
                    t.variant = Some(message.to_owned());
                    t.repetition = repetition;
                    t.throughput_rps = 10_000.0 * speed * (1.0 + f64::from(repetition) / 100.0);
                    t.costs.client_bound = false;
                    result.push_trial(t);
                }
            }
        }
        result
    }

    #[test]
    fn no_sentence_compares_two_workloads() {
        for reps in [1, 2, 3] {
            let result = message_run(reps);
            let sentences = comparisons(&result);
            assert_eq!(sentences.len(), 4, "one per workload group: {sentences:#?}");
            for sentence in &sentences {
                let (group, said) = sentence.split_once(": ").unwrap();
                let message = group.trim_start_matches("message ");
                for other in ["order down", "order up", "text down", "text up"] {
                    if other != message {
                        assert!(!said.contains(other), "{reps} reps: {sentence}");
                    }
                }
                assert!(
                    said.contains(&format!("(({message})"))
                        || said.contains(&format!("({message})")),
                    "{sentence}"
                );
            }
            // grpc is ahead on order, behind on text: each group its own.
            let text = sentences
                .iter()
                .find(|s| s.starts_with("message text down"))
                .unwrap();
            assert!(
                text.contains("rest (text down)") && text.contains("2.00x")
                    || text.contains("0.50x"),
                "{text}"
            );
        }
    }

    #[test]
    fn intervals_need_three_pairs() {
        let two = comparisons(&message_run(2)).join(" ");
        assert!(!two.contains("95%") && two.contains("range"), "{two}");
        let three = comparisons(&message_run(3)).join(" ");
        assert!(
            three.contains("bootstrap 95%") && three.contains("3 paired trials"),
            "{three}"
        );
    }

    #[test]
    fn a_short_trial_gets_no_ratio_but_how_long_to_run() {
        let mut result = message_run(1);
        for t in &mut result.trials {
            t.duration_s = 0.05;
            t.requests_ok = 200;
        }
        let said = comparisons(&result).join(" ");
        assert!(!said.contains("x the requests per second"), "{said}");
        assert!(
            said.contains("too short to compare throughput") && said.contains("run -t"),
            "{said}"
        );
    }
}
