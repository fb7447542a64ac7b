//! What a bench run does, resolved once from flags, preset and defaults
//! into a [`BenchConfig`]: the settings as the result records them, and
//! every trial planned completely ([`super::trials::TrialPlan`]: its servers, its request,
//! its load) before anything starts. Nothing downstream fills a field in
//! later; running a plan only adds what was measured.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use wirebench_load::contract::MessageJob;
use wirebench_load::{Job, StopAt};
use wirebench_proto::message::compiled::Codegen;
use wirebench_proto::message::{Direction, Encoding, MessageSource, Shape};
use wirebench_proto::pipeline_work::{DEFAULT_MAX_RECORDS, DEFAULT_RECORDS};
use wirebench_proto::vocab::Stack;
use wirebench_server::grpc::{GrpcExec, GrpcImpl};
use wirebench_server::pipeline::HopMode;

use super::settings::{BenchSettings, MessageSettings, MessageSize};
use super::trials::{StackPlan, TrialPlan, plan_trials};
use crate::args::{BenchArgs, ServiceKind};
use crate::placement::CpuPlacement;
use crate::preset::Preset;
use crate::settings::{self, Defaults};

/// With no flags: 50 requests in flight for 10 s after a 2 s warm-up, per
/// stack, so the whole comparison ends well within a minute.
const DEFAULTS: Defaults = Defaults {
    stop: StopAt::Duration(Duration::from_secs(10)),
    warmup: Duration::from_secs(2),
};
const DEFAULT_SIZE_KB: u64 = 512;
/// More repetitions than this is a typo, not a plan.
const MAX_TRIALS: u32 = 100;

/// A whole bench run, planned.
pub struct BenchConfig {
    /// Every setting in force, defaults included: the result's
    /// `run.settings`.
    pub settings: BenchSettings,
    pub placement: CpuPlacement,
    /// Every trial, in the order they run.
    pub trials: Vec<TrialPlan>,
    pub json_path: PathBuf,
    /// Where report.html and report.md go.
    pub out_dir: PathBuf,
    pub quiet: bool,
    /// `--profile`: perf samples every trial.
    pub profile: bool,
    /// `--start-at`: when trial 0 starts; trial k starts k slots later
    /// (see [`super::slot`]), on every agent alike.
    pub start: Option<std::time::SystemTime>,
    /// `--json -`: print the result on one line at the end.
    pub json_stdout: bool,
    /// How the table and reports are read (`--at-rate`, `--wide`).
    pub view: wirebench_report::View,
}

pub fn resolve(args: &BenchArgs) -> anyhow::Result<BenchConfig> {
    let preset = match &args.preset {
        Some(name) => Preset::load(name)?,
        None => Preset::default(),
    };
    let load = preset.fill(args.load.clone());
    let workload = args
        .workload
        .or(preset.workload)
        .unwrap_or(ServiceKind::Payload);
    anyhow::ensure!(
        workload != ServiceKind::Mix,
        "bench's mix is a file of calls: give --mix FILE (e.g. examples/mix/orders.toml)"
    );
    let stacks = args
        .stacks
        .clone()
        .or_else(|| preset.stacks.clone())
        .unwrap_or_else(|| Stack::DEFAULT.to_vec());
    anyhow::ensure!(!stacks.is_empty(), "--stacks names no stack");
    let start = load.agent.start()?;
    anyhow::ensure!(
        start.is_none() || (load.requests.is_none() && !args.find_capacity),
        "with --start-at, every agent runs trial k in the same slot of time: give -t (not -n), and no --find-capacity"
    );
    let size_kb = args.size_kb.or(preset.size_kb).unwrap_or(DEFAULT_SIZE_KB);
    let records = args.records.or(preset.records).unwrap_or(DEFAULT_RECORDS);
    anyhow::ensure!(
        (1..=DEFAULT_MAX_RECORDS).contains(&records),
        "--records must be 1..={DEFAULT_MAX_RECORDS}"
    );
    let hops = args
        .hop
        .clone()
        .or_else(|| preset.hop.clone())
        .unwrap_or_else(|| vec![HopMode::Stream]);
    anyhow::ensure!(!hops.is_empty(), "--hop names no mode");
    let grpc_execs = args
        .grpc_exec
        .clone()
        .unwrap_or_else(|| vec![GrpcExec::Async]);
    anyhow::ensure!(!grpc_execs.is_empty(), "--grpc-exec names no model");
    let grpc_impls = args
        .grpc_impl
        .clone()
        .unwrap_or_else(|| vec![GrpcImpl::Tonic]);
    anyhow::ensure!(
        !grpc_impls.is_empty(),
        "--grpc-impl names no implementation"
    );
    anyhow::ensure!(
        grpc_impls == [GrpcImpl::Tonic] || stacks.contains(&Stack::GRPC),
        "--grpc-impl compares servers of the plain grpc stack: add grpc to --stacks"
    );
    let json_codecs = args.json_codec.clone().unwrap_or_default();
    let json_codecs = match json_codecs.is_empty() {
        true => vec![wirebench_proto::json::Codec::SerdeJson],
        false => json_codecs,
    };
    let placement = CpuPlacement::resolve(
        args.client_cpus.clone(),
        args.server_cpus.clone(),
        args.no_pin,
    )?;
    let worker_counts = args
        .workers
        .clone()
        .or_else(|| preset.workers.clone())
        .unwrap_or_else(|| vec![placement.server_threads()]);
    anyhow::ensure!(
        !worker_counts.is_empty() && !worker_counts.contains(&0),
        "--workers must be at least 1"
    );
    let process_counts = args
        .server_processes
        .clone()
        .or_else(|| preset.server_processes.clone())
        .unwrap_or_else(|| vec![1]);
    anyhow::ensure!(
        !process_counts.is_empty() && !process_counts.contains(&0),
        "--server-processes must be at least 1"
    );
    anyhow::ensure!(
        process_counts == [1] || workload != ServiceKind::Pipeline,
        "--server-processes applies to the payload and message workloads (the pipeline runs one process per role)"
    );
    let trials = args.trials.or(preset.trials).unwrap_or(1);
    anyhow::ensure!(
        (1..=MAX_TRIALS).contains(&trials),
        "--trials must be 1..={MAX_TRIALS}"
    );
    let net = match (&args.net, &preset.net) {
        (Some(net), _) => Some(*net),
        (None, Some(text)) => Some(text.parse()?),
        (None, None) => None,
    }
    .filter(|n| !n.is_clear());
    let max_size_kb = args
        .max_size_kb
        .or(preset.max_size_kb)
        .unwrap_or(wirebench_server::DEFAULT_MAX_SIZE_KB);
    let shapes = args
        .shape
        .clone()
        .or_else(|| preset.shape.clone())
        .unwrap_or_else(|| vec![Shape::Order]);
    let directions = args
        .direction
        .clone()
        .or_else(|| preset.direction.clone())
        .unwrap_or_else(|| vec![Direction::Down]);
    anyhow::ensure!(
        !shapes.is_empty() && !directions.is_empty(),
        "--shape and --direction must name at least one"
    );
    let items = args.items.or(preset.items);
    anyhow::ensure!(items != Some(0), "--items must be at least 1");
    let seed = args.seed.or(preset.seed).unwrap_or(1);
    let codegens = &args.own.schema.codegen;
    anyhow::ensure!(!codegens.is_empty(), "--codegen must name at least one");
    let messages: Vec<MessageSource> = match args.own.source(seed, items) {
        Some(own) => {
            anyhow::ensure!(
                args.shape.is_none(),
                "give --shape (built-in messages) or --proto (your own), not both"
            );
            vec![own]
        }
        None => shapes
            .iter()
            .map(|&shape| MessageSource::shape(shape, seed, items, Codegen::Compiled))
            .collect(),
    };
    // Each message with each codegen; a schema asked for compiled is built
    // here, once, before any server starts (or falls back to dynamic).
    let mut sources: Vec<MessageSource> = Vec::new();
    let mut codegen_fallback = None;
    for message in &messages {
        for &codegen in codegens {
            let (source, fallback) = message.with_codegen(codegen).available()?;
            if let Some(why) = fallback {
                eprintln!("warning: {why}");
                codegen_fallback = Some(why);
            }
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
    }
    let sizes = args.sizes.clone().or_else(|| preset.sizes.clone());
    if let Some(sizes) = &sizes {
        anyhow::ensure!(
            !sizes.is_empty() && !sizes.contains(&0),
            "--sizes must name sizes of at least 1 KiB"
        );
        anyhow::ensure!(
            workload != ServiceKind::Pipeline,
            "--sizes applies to the payload and message workloads"
        );
    }
    let mut jobs: Vec<(Job, Option<String>)> = Vec::new();
    match workload {
        ServiceKind::Payload => match &sizes {
            Some(sizes) => jobs.extend(
                sizes
                    .iter()
                    .map(|&size_kb| (Job::Payload { size_kb }, None)),
            ),
            None => jobs.push((Job::Payload { size_kb }, None)),
        },
        ServiceKind::Pipeline => jobs.push((Job::Pipeline { records }, None)),
        ServiceKind::Mix => unreachable!("refused above: a mix is --mix FILE"),
        ServiceKind::Message => {
            for source in &sources {
                for &direction in &directions {
                    let variant = format!("{} {direction}", source.label());
                    // A schema that does not compile, an unknown message or
                    // a bad data line stops the run here, before any server.
                    match &sizes {
                        None => {
                            let job = MessageJob::load(source.clone(), direction)?;
                            jobs.push((Job::Message(Arc::new(job)), Some(variant)));
                        }
                        Some(sizes) => {
                            for &size_kb in sizes {
                                let job = MessageJob::sized(source, size_kb, direction)?;
                                jobs.push((Job::Message(Arc::new(job)), Some(variant.clone())));
                            }
                        }
                    }
                }
            }
        }
    }
    let mix = match &args.mix {
        Some(path) => {
            anyhow::ensure!(
                args.workload.is_none() && sizes.is_none() && args.shape.is_none(),
                "--mix is a workload of its own: each call names its message (no --workload, --shape or --sizes)"
            );
            let mix = crate::mix_file::MixFile::read(path)?;
            jobs.clear();
            for (name, source, direction) in mix.messages()? {
                let source = crate::args::available(&source)?;
                let job = MessageJob::load(source, direction)
                    .with_context(|| format!("{}: call '{name}'", path.display()))?;
                jobs.push((Job::Message(Arc::new(job)), Some(name)));
            }
            Some(mix)
        }
        None => None,
    };
    let max_size_kb = jobs
        .iter()
        .map(|(job, _)| job.min_max_size_kb())
        .fold(max_size_kb, u64::max);
    let mut plans = Vec::new();
    for &stack in &stacks {
        let load = settings::load_plan(&load, DEFAULTS, |senders| {
            stack.default_connections(senders)
        })?;
        if let Some(mix) = &mix {
            let calls = jobs
                .iter()
                .enumerate()
                .map(|(i, (job, name))| {
                    let name = name.clone().expect("a mix's jobs are named");
                    let request = job.mix_request(stack, &name, i as u8)?;
                    Ok((name, request))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let file = std::fs::canonicalize(&mix.path)
                .with_context(|| format!("cannot find {}", mix.path.display()))?;
            plans.push(StackPlan {
                stack,
                load: load.clone(),
                request: calls[0].1.clone(),
                job: jobs[0].0.clone(),
                variant: Some(format!(
                    "mix {}",
                    crate::load_cmd::targets::mix_label(&mix.path)
                )),
                mix: Some(Arc::new(super::trials::MixRequests {
                    file,
                    weights: mix.weights(mix.seed),
                    calls,
                })),
            });
            continue;
        }
        for (job, variant) in &jobs {
            // Fails here, before any server starts, if the stack cannot
            // serve the job.
            plans.push(StackPlan {
                stack,
                load: load.clone(),
                request: job.request(stack)?,
                job: job.clone(),
                variant: variant.clone(),
                mix: None,
            });
        }
    }
    let most_connections = plans
        .iter()
        .map(|p| u64::from(p.load.connections()))
        .max()
        .unwrap_or(0);
    // The proxy holds two sockets per connection.
    let sockets = if net.is_some() {
        most_connections * 3
    } else {
        most_connections
    };
    crate::provenance::check_open_files(sockets)?;
    for plan in &plans {
        crate::provenance::check_memory(
            plan.job.min_max_size_kb(),
            u64::from(plan.load.senders()),
        )?;
    }
    let out_dir = match (&args.out, &load.json) {
        (Some(dir), _) => dir.clone(),
        (None, Some(json)) => json.parent().map(PathBuf::from).unwrap_or_default(),
        (None, None) => default_out_dir(),
    };
    // `--json -`: the result on one line of standard output (for
    // `merge -`), and in the folder as usual.
    let json_stdout = load.json.as_deref() == Some(std::path::Path::new("-"));
    let out_dir = if json_stdout {
        default_out_dir()
    } else {
        out_dir
    };
    let json_path = match &load.json {
        Some(json) if !json_stdout => json.clone(),
        _ => out_dir.join("result.json"),
    };
    let settings = BenchSettings {
        command: "bench",
        preset: args.preset.clone(),
        workload: jobs[0].0.workload(),
        stacks: stacks.clone(),
        size_kb,
        sizes,
        records,
        hops,
        grpc_exec: grpc_execs,
        grpc_impl: grpc_impls,
        json_codec: json_codecs,
        trials,
        net,
        server_workers: worker_counts,
        server_processes: process_counts,
        client_threads: placement.client_threads(),
        client_cpus: placement.client.clone(),
        server_cpus: placement.server.clone(),
        max_size_kb,
        plans: plans
            .iter()
            .map(|p| (p.stack.name(), p.load.clone()))
            .collect(),
        message: (workload == ServiceKind::Message).then(|| MessageSettings {
            sizes: message_sizes(&jobs),
            codegen: Codegen::ALL
                .into_iter()
                .filter(|c| sources.iter().any(|s| s.codegen() == *c))
                .collect(),
            codegen_fallback,
            sources,
            directions,
        }),
        thresholds: load.thresholds.clone(),
        abort_after: load.abort_after(),
        capacity: super::capacity::resolve(args, &load)?,
        remote: super::remote::Remote::resolve(
            args.target.as_deref(),
            &load.server_metrics,
            args.cacert.as_ref(),
            &stacks,
        )?,
        // Loss is the kernel's, on the namespace path: asking for it
        // asks for the path.
        netns: args.netns || net.is_some_and(|n| n.loss_probability > 0.0),
    };
    Ok(BenchConfig {
        trials: plan_trials(&settings, &plans),
        settings,
        placement,
        json_path,
        out_dir,
        quiet: load.quiet,
        profile: args.profile,
        start,
        json_stdout,
        view: load.view.view(),
    })
}

/// Each shape's encoded sizes (the mean over a data file's messages),
/// once per shape.
fn message_sizes(jobs: &[(Job, Option<String>)]) -> Vec<MessageSize> {
    let mut sizes: Vec<MessageSize> = Vec::new();
    for (job, _) in jobs {
        if let Job::Message(job) = job
            && !sizes
                .iter()
                .any(|s| s.message == job.source.label() && s.target_kb == job.target_kb)
        {
            sizes.push(MessageSize {
                message: job.source.label(),
                target_kb: job.target_kb,
                messages: job.count(),
                protobuf_bytes: job.mean_bytes(Encoding::Protobuf),
                json_bytes: job.mean_bytes(Encoding::Json),
            });
        }
    }
    sizes
}

/// `results/<UTC time>/`.
fn default_out_dir() -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(':', "-");
    PathBuf::from("results").join(stamp)
}
