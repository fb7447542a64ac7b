//! The answer under the table, in sentences: for each server configuration
//! (worker threads x processes), which stack served more, at what latency,
//! and which served more per server CPU-second; with a warning when the
//! load generator, not the server, was the limit.

use crate::format;
use crate::label::{ServerConfig, trial_label};
use crate::model::{RunResult, Trial};

/// With repeated trials or more than two configurations: each against the
/// baseline, one sentence each (with intervals when trials were paired),
/// and one warning when the load generator was the limit.
fn against_baseline(result: &RunResult) -> Option<Vec<String>> {
    let summary = result.summary.as_ref()?;
    let repeated = summary.ratios.iter().any(|r| r.throughput.pairs > 1);
    if !(repeated || summary.groups.len() > 2) {
        return None;
    }
    let mut sentences: Vec<String> = summary
        .ratios
        .iter()
        .map(|r| {
            let t = &r.throughput;
            let mut sentence = format!(
                "{} served {} the requests per second of {}",
                r.numerator,
                crate::grid::interval_text(t),
                r.denominator
            );
            if t.pairs > 1 {
                sentence.push_str(&format!(
                    " ({:.0}% interval over {} paired trials)",
                    t.confidence * 100.0,
                    t.pairs
                ));
            }
            if let Some(cpu) = &r.requests_per_server_cpu_second {
                sentence.push_str(&format!(
                    ", and {} the requests per server CPU-second",
                    crate::grid::interval_text(cpu)
                ));
            }
            sentence.push('.');
            sentence
        })
        .collect();
    let bound: Vec<String> = summary
        .groups
        .iter()
        .filter(|g| {
            result
                .trials
                .iter()
                .any(|t| crate::label::group_label(result, t) == g.label && t.costs.client_bound)
        })
        .map(|g| g.label.clone())
        .collect();
    if !bound.is_empty() {
        sentences.push(format!(
            "The load generator was the limit for {}: those throughputs say more about the client than the servers.",
            bound.join(", ")
        ));
    }
    Some(sentences)
}

/// The run's verdict, and which JSON codec served the JSON stacks.
pub fn verdict(result: &RunResult) -> Vec<String> {
    let mut sentences = comparisons(result);
    sentences.extend(codecs(result));
    sentences.extend(tunings(result));
    sentences
}

/// What each stack started by wirebench was tuned with, where the stacks
/// differ (docs/tuning.md): a comparison is fair only if the reader can
/// see that every stack was served as an expert would serve it.
fn tunings(result: &RunResult) -> Option<String> {
    use wirebench_proto::vocab::{StackKind, Workload};
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
    let http2 = names(&|t| {
        matches!(
            t.stack.kind,
            StackKind::RestH2 | StackKind::Grpc | StackKind::GrpcJson
        )
    });
    if !http2.is_empty() {
        clauses.push(format!("HTTP/2 ({}) takes 1 MiB frames", http2.join(", ")));
    }
    let rest_h2 = names(&|t| t.stack.kind == StackKind::RestH2);
    if !rest_h2.is_empty() {
        clauses.push(format!(
            "{} has gRPC's flow-control windows",
            rest_h2.join(", ")
        ));
    }
    let quic = names(&|t| t.stack.kind == StackKind::RestH3);
    if !quic.is_empty() {
        clauses.push(format!(
            "{} runs quinn's defaults on both ends but the congestion control, the kernel TCP's (the trial's wire says which)",
            quic.join(", ")
        ));
    }
    let web = names(&|t| {
        matches!(t.stack.kind, StackKind::GrpcWeb | StackKind::GrpcWebText)
            && t.workload == Workload::Pipeline
    });
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
    let rest_bodies = names(&|t| {
        matches!(
            t.stack.kind,
            StackKind::Rest | StackKind::RestH2 | StackKind::RestH3
        ) && t.workload == Workload::Payload
    });
    if !rest_bodies.is_empty() {
        clauses.push(format!(
            "{} builds its JSON body in one buffer of its final size",
            rest_bodies.join(", ")
        ));
    }
    let pipeline_grpc =
        names(&|t| t.stack.kind == StackKind::Grpc && t.workload == Workload::Pipeline);
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

/// One sentence per server configuration, or per stack against the baseline
/// with intervals when trials were repeated.
fn comparisons(result: &RunResult) -> Vec<String> {
    let capacity = crate::capacity::verdict(result);
    if !capacity.is_empty() {
        return capacity;
    }
    let sweep = crate::sweep::crossovers(result);
    if !sweep.is_empty() {
        return sweep;
    }
    if let Some(sentences) = against_baseline(result) {
        return sentences;
    }
    let mut configs: Vec<ServerConfig> = Vec::new();
    for t in &result.trials {
        let key = ServerConfig::of(t);
        if !configs.contains(&key) {
            configs.push(key);
        }
    }
    let labelled = configs.len() > 1;
    configs
        .into_iter()
        .filter_map(|key| {
            let group: Vec<&Trial> = result
                .trials
                .iter()
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
    let mut sentence = format!(
        "{} served {:.2}x the requests per second of {} (p50 {} vs {}, p99 {} vs {}), {errors}.",
        label(fast),
        fast.throughput_rps / slow.throughput_rps,
        label(slow),
        format::latency_us(fast.latency_us.p50),
        format::latency_us(slow.latency_us.p50),
        format::latency_us(fast.latency_us.p99),
        format::latency_us(slow.latency_us.p99),
    );
    if let (Some(a), Some(b)) = (
        first.costs.requests_per_server_cpu_second,
        other.costs.requests_per_server_cpu_second,
    ) {
        let ((lean, lean_rate), (heavy, heavy_rate)) = if a >= b {
            ((first, a), (other, b))
        } else {
            ((other, b), (first, a))
        };
        sentence.push_str(&format!(
            " {} served {:.2}x the requests per server CPU-second of {} ({} vs {}).",
            label(lean),
            lean_rate / heavy_rate,
            label(heavy),
            format::rate(lean_rate),
            format::rate(heavy_rate),
        ));
    }
    if fast.costs.client_bound || slow.costs.client_bound {
        sentence.push_str(" The load generator was the limit in at least one trial: the throughput ratio says more about the client than the servers.");
    }
    sentence
}

fn single(result: &RunResult, t: &Trial) -> String {
    let label = |t: &Trial| trial_label(result, t);
    format!(
        "{} served {} req/s with p50 {} and {} errors.",
        label(t),
        format::rate(t.throughput_rps),
        format::latency_us(t.latency_us.p50),
        t.errors_total()
    )
}
