//! `wirebench bench`: the main job. For each trial (stack x worker count x
//! hop mode): start its servers as child processes on free loopback ports,
//! run the same load against them while the probe watches every process,
//! stop them; then print the table side by side and the verdict. The result
//! file is rewritten (atomically) after every trial, so an interrupted or
//! crashed run keeps every trial it finished.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use wirebench_load::verify::BodyCheck;
use wirebench_load::{Client, GrpcCall, HttpTarget, LoadPlan, StopAt, Target};
use wirebench_proto::pipeline::AggregateRequest;
use wirebench_proto::vocab::{Stack, Workload};
use wirebench_report::{Exporter, Format, JsonExporter, RunResult, SCHEMA_VERSION, TableExporter};
use wirebench_server::pipeline::{self, HopMode};

use crate::args::{BenchArgs, BenchWorkload};
use crate::deploy::{self, Deployment};
use crate::placement::CpuPlacement;
use crate::preset::{BUILT_IN, Preset};
use crate::progress::Reporter;
use crate::settings::{self, Defaults};
use crate::signals::Cancel;
use crate::trial::{TrialSpec, trial};

/// With no flags: 50 requests in flight for 10 s after a 2 s warm-up, per
/// stack, so the whole comparison ends well within a minute.
const DEFAULTS: Defaults = Defaults {
    stop: StopAt::Duration(Duration::from_secs(10)),
    warmup: Duration::from_secs(2),
};
const DEFAULT_SIZE_KB: u64 = 512;

/// Everything a bench run does, resolved from flags, preset and defaults.
struct BenchConfig {
    workload: BenchWorkload,
    size_kb: u64,
    records: u32,
    hops: Vec<HopMode>,
    worker_counts: Vec<usize>,
    process_counts: Vec<usize>,
    max_size_kb: u64,
    placement: CpuPlacement,
    plans: Vec<(Stack, LoadPlan)>,
    json_path: PathBuf,
    /// Where report.html and report.md go.
    out_dir: PathBuf,
    quiet: bool,
}

pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.list_presets {
        for (name, text) in BUILT_IN {
            let preset = Preset::parse(name, text)?;
            println!("{name:<20} {}", preset.description.unwrap_or_default());
        }
        return Ok(ExitCode::SUCCESS);
    }
    crate::provenance::warn_if_debug_build();
    let config = resolve(&args)?;
    let settings = serde_json::json!({
        "command": "bench",
        "preset": args.preset,
        "workload": match config.workload {
            BenchWorkload::Payload => Workload::Payload,
            BenchWorkload::Pipeline => Workload::Pipeline,
        },
        "stacks": config.plans.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        "size_kb": config.size_kb,
        "records": config.records,
        "hops": config.hops,
        "server_workers": config.worker_counts,
        "server_processes": config.process_counts,
        "client_threads": config.placement.client_threads(),
        "client_cpus": config.placement.client,
        "server_cpus": config.placement.server,
        "max_size_kb": config.max_size_kb,
        "plans": config.plans.iter().map(|(s, p)| (s.name(), p)).collect::<BTreeMap<_, _>>(),
    });

    // Pinned before the runtime exists, so every thread it starts (and the
    // probe's) inherits the load generator's CPU set.
    if let Some(client) = &config.placement.client {
        client
            .pin_current_thread()
            .context("cannot pin the load generator")?;
    }
    println!("placement: {}", config.placement.describe());
    let runtime = crate::client_runtime(config.placement.client_threads())?;
    runtime.block_on(run_trials(&config, settings))
}

fn resolve(args: &BenchArgs) -> anyhow::Result<BenchConfig> {
    let preset = match &args.preset {
        Some(name) => Preset::load(name)?,
        None => Preset::default(),
    };
    let load = preset.fill(args.load.clone());
    let workload = args
        .workload
        .or(preset.workload)
        .unwrap_or(BenchWorkload::Payload);
    let stacks = args
        .stacks
        .clone()
        .or_else(|| preset.stacks.clone())
        .unwrap_or_else(|| Stack::ALL.to_vec());
    anyhow::ensure!(!stacks.is_empty(), "--stacks names no stack");
    let size_kb = args.size_kb.or(preset.size_kb).unwrap_or(DEFAULT_SIZE_KB);
    let records = args
        .records
        .or(preset.records)
        .unwrap_or(pipeline::DEFAULT_RECORDS);
    anyhow::ensure!(
        (1..=pipeline::DEFAULT_MAX_RECORDS).contains(&records),
        "--records must be 1..={}",
        pipeline::DEFAULT_MAX_RECORDS
    );
    let hops = args
        .hop
        .clone()
        .or_else(|| preset.hop.clone())
        .unwrap_or_else(|| vec![HopMode::Stream]);
    anyhow::ensure!(!hops.is_empty(), "--hop names no mode");
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
        process_counts == [1] || workload == BenchWorkload::Payload,
        "--server-processes applies to the payload workload (the pipeline runs one process per role)"
    );
    let max_size_kb = args
        .max_size_kb
        .or(preset.max_size_kb)
        .unwrap_or(wirebench_server::DEFAULT_MAX_SIZE_KB)
        .max(size_kb);
    let plans = stacks
        .iter()
        .map(|&stack| {
            let target = front_target(
                workload,
                stack,
                "127.0.0.1:0".parse().expect("literal"),
                size_kb,
                records,
            )?;
            let plan = settings::load_plan(&load, DEFAULTS, |senders| {
                target.default_connections(senders)
            })?;
            Ok((stack, plan))
        })
        .collect::<anyhow::Result<Vec<(Stack, LoadPlan)>>>()?;
    let most_connections = plans
        .iter()
        .map(|(_, p)| u64::from(p.connections()))
        .max()
        .unwrap_or(0);
    crate::provenance::check_open_files(most_connections)?;
    let out_dir = match (&args.out, &load.json) {
        (Some(dir), _) => dir.clone(),
        (None, Some(json)) => json.parent().map(PathBuf::from).unwrap_or_default(),
        (None, None) => default_out_dir(),
    };
    let json_path = load
        .json
        .clone()
        .unwrap_or_else(|| out_dir.join("result.json"));
    Ok(BenchConfig {
        workload,
        size_kb,
        records,
        hops,
        worker_counts,
        process_counts,
        max_size_kb,
        placement,
        plans,
        json_path,
        out_dir,
        quiet: load.quiet,
    })
}

/// One trial's set-up: which servers, which load.
struct Setup<'a> {
    deployment: Deployment,
    plan: &'a LoadPlan,
}

/// Every trial, in order: process counts outermost, then worker counts,
/// then stacks (interleaved, so drift spreads over all), then (for the gRPC
/// pipeline) hop modes.
fn setups(config: &BenchConfig) -> Vec<Setup<'_>> {
    let mut setups = Vec::new();
    let configs = config
        .process_counts
        .iter()
        .flat_map(|&p| config.worker_counts.iter().map(move |&w| (p, w)));
    for (processes, workers) in configs {
        for (stack, plan) in &config.plans {
            let hops = match (config.workload, stack) {
                (BenchWorkload::Pipeline, Stack::Grpc) => config.hops.clone(),
                _ => vec![HopMode::Stream],
            };
            for hop in hops {
                setups.push(Setup {
                    deployment: Deployment {
                        workload: config.workload,
                        stack: *stack,
                        workers,
                        max_size_kb: config.max_size_kb,
                        processes,
                        records: config.records,
                        hop,
                    },
                    plan,
                });
            }
        }
    }
    setups
}

async fn run_trials(config: &BenchConfig, settings: serde_json::Value) -> anyhow::Result<ExitCode> {
    let cancel = Cancel::on_signals(Some("stopping; writing what was measured so far"))?;
    let mut result = RunResult {
        schema_version: SCHEMA_VERSION,
        run: crate::provenance::run_info(settings),
        trials: Vec::new(),
    };
    let pipeline_grpc_hops = config.workload == BenchWorkload::Pipeline && config.hops.len() > 1;
    for setup in setups(config) {
        if cancel.is_cancelled() {
            break;
        }
        let d = &setup.deployment;
        let plan = setup.plan;
        let what = match d.workload {
            BenchWorkload::Payload => format!(
                "{} KiB payload; {} server process(es) x {} worker(s)",
                config.size_kb, d.processes, d.workers
            ),
            BenchWorkload::Pipeline if d.stack == Stack::Grpc => format!(
                "pipeline of {} records, {} hops; 3 processes x {} worker(s)",
                config.records,
                d.hop.name(),
                d.workers
            ),
            BenchWorkload::Pipeline => format!(
                "pipeline of {} records; 3 processes x {} worker(s)",
                config.records, d.workers
            ),
        };
        println!(
            "{}: {}; stop after {}; warm-up {}; {} connection(s); {what}",
            d.stack,
            plan.model(),
            plan.stop(),
            humantime::format_duration(plan.warmup()),
            plan.connections(),
        );
        let servers = deploy::start(d, config.placement.server.as_ref())?;
        let target = front_target(
            d.workload,
            d.stack,
            servers.front(),
            config.size_kb,
            config.records,
        )?;
        let client = Arc::new(Client::new(&target, plan.connections()).await?);
        let probe =
            crate::trial::start_probe(plan, &servers.roles(), config.placement.client_set());
        let mut progress = Reporter::new(d.stack.name(), plan, config.quiet);
        let outcome =
            wirebench_load::run_observed(plan, client, cancel.cancelled(), |p| progress.update(p))
                .await;
        progress.finish();
        let probed = probe.stop();
        drop(servers);
        let spec = TrialSpec {
            stack: d.stack,
            workload: match d.workload {
                BenchWorkload::Payload => Workload::Payload,
                BenchWorkload::Pipeline => Workload::Pipeline,
            },
            target_label: target_label(&target),
            size_kb: (d.workload == BenchWorkload::Payload).then_some(config.size_kb),
            target: &target,
            plan,
        };
        let mut trial = trial(spec, &outcome);
        trial.server_workers = Some(d.workers);
        trial.server_processes = Some(d.processes);
        if d.workload == BenchWorkload::Pipeline && d.stack == Stack::Grpc {
            trial.hop = Some(d.hop.name().to_owned());
            if pipeline_grpc_hops {
                trial.variant = Some(format!("{} hops", d.hop.name()));
            }
        }
        crate::trial::apply_probe(&mut trial, probed, &config.placement);
        result.trials.push(trial);
        result.run.interrupted = outcome.interrupted;
        wirebench_report::write_atomically(
            &config.json_path,
            JsonExporter.render(&result).as_bytes(),
        )
        .with_context(|| format!("cannot write {}", config.json_path.display()))?;
    }
    println!();
    print!("{}", TableExporter.render(&result));
    println!("result: {}", config.json_path.display());
    for path in write_reports(config, &result)? {
        println!("report: {}", path.display());
    }
    Ok(if result.run.interrupted {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}

/// The request clients send to `addr`, the front server of `workload`, and
/// the check every answer must pass.
pub fn front_target(
    workload: BenchWorkload,
    stack: Stack,
    addr: std::net::SocketAddr,
    size_kb: u64,
    records: u32,
) -> anyhow::Result<Target> {
    let len = usize::try_from(size_kb * 1024).context("size too large")?;
    let http = |path: String, check: BodyCheck| -> anyhow::Result<Target> {
        Ok(Target::Http(HttpTarget {
            uri: format!("http://{addr}{path}").parse()?,
            method: http::Method::GET,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::new(),
            check,
        }))
    };
    let expected = || pipeline::work::expected_summary(records);
    Ok(match (workload, stack) {
        (BenchWorkload::Payload, Stack::Rest) => http(
            format!("/payload?size_in_kb={size_kb}"),
            BodyCheck::PayloadJson { len },
        )?,
        (BenchWorkload::Payload, Stack::Grpc) => Target::Grpc {
            authority: addr.to_string(),
            call: GrpcCall::GetLargePayload {
                size_in_kb: i64::try_from(size_kb)?,
            },
        },
        (BenchWorkload::Pipeline, Stack::Rest) => http(
            format!("/aggregate?records={records}"),
            BodyCheck::Summary(expected()),
        )?,
        (BenchWorkload::Pipeline, Stack::Grpc) => Target::Grpc {
            authority: addr.to_string(),
            call: GrpcCall::Aggregate {
                request: AggregateRequest { records },
                expected: expected(),
            },
        },
    })
}

fn target_label(target: &Target) -> String {
    match target {
        Target::Http(http) => http.uri.to_string(),
        Target::Grpc { authority, call } => format!("grpc://{authority}{}", call.path()),
    }
}

/// `results/<UTC time>/`.
fn default_out_dir() -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(':', "-");
    PathBuf::from("results").join(stamp)
}

/// Writes report.html and report.md beside the result; returns their paths.
fn write_reports(config: &BenchConfig, result: &RunResult) -> anyhow::Result<Vec<PathBuf>> {
    [
        ("report.html", Format::Html),
        ("report.md", Format::Markdown),
    ]
    .into_iter()
    .map(|(name, format)| {
        let path = config.out_dir.join(name);
        wirebench_report::write_atomically(&path, format.exporter().render(result).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    })
    .collect()
}
