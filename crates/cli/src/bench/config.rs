//! What a bench run does, resolved once from flags, preset and defaults
//! into a [`BenchConfig`] that cannot hold a contradiction, and the list of
//! trials it expands to.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use wirebench_load::{LoadPlan, StopAt};
use wirebench_netsim::NetConditions;
use wirebench_proto::vocab::Stack;
use wirebench_server::grpc::GrpcExec;
use wirebench_server::pipeline::{self, HopMode};

use crate::args::{BenchArgs, BenchWorkload};
use crate::deploy::Deployment;
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

pub struct BenchConfig {
    pub workload: BenchWorkload,
    pub size_kb: u64,
    pub records: u32,
    pub hops: Vec<HopMode>,
    pub grpc_execs: Vec<GrpcExec>,
    pub worker_counts: Vec<usize>,
    pub process_counts: Vec<usize>,
    pub max_size_kb: u64,
    pub placement: CpuPlacement,
    pub plans: Vec<(Stack, LoadPlan)>,
    pub trials: u32,
    pub net: Option<NetConditions>,
    pub json_path: PathBuf,
    /// Where report.html and report.md go.
    pub out_dir: PathBuf,
    pub quiet: bool,
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
        .unwrap_or(BenchWorkload::Payload);
    let stacks = args
        .stacks
        .clone()
        .or_else(|| preset.stacks.clone())
        .unwrap_or_else(|| Stack::DEFAULT.to_vec());
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
    let grpc_execs = args
        .grpc_exec
        .clone()
        .unwrap_or_else(|| vec![GrpcExec::Async]);
    anyhow::ensure!(!grpc_execs.is_empty(), "--grpc-exec names no model");
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
        .unwrap_or(wirebench_server::DEFAULT_MAX_SIZE_KB)
        .max(size_kb);
    let plans = stacks
        .iter()
        .map(|&stack| {
            let target = super::target::front_target(
                workload,
                stack,
                "127.0.0.1:0".parse().expect("literal"),
                size_kb,
                records,
                None,
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
    // The proxy holds two sockets per connection.
    let sockets = if net.is_some() {
        most_connections * 3
    } else {
        most_connections
    };
    crate::provenance::check_open_files(sockets)?;
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
        grpc_execs,
        worker_counts,
        process_counts,
        max_size_kb,
        placement,
        plans,
        trials,
        net,
        json_path,
        out_dir,
        quiet: load.quiet,
    })
}

/// `results/<UTC time>/`.
fn default_out_dir() -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(':', "-");
    PathBuf::from("results").join(stamp)
}

/// One trial's set-up: which servers, which load, which repetition.
pub struct Setup<'a> {
    pub deployment: Deployment,
    pub plan: &'a LoadPlan,
    pub repetition: u32,
    /// Tells this trial apart from others of its stack (hop mode, handler
    /// execution), when the run varies it.
    pub variant: Option<String>,
}

/// Every trial, in order: repetitions outermost (so the stacks interleave,
/// A B A B ..., and drift spreads over all), then process and worker
/// counts, then stacks, then the gRPC-only variations (hop modes for the
/// pipeline, handler execution for the payload).
pub fn setups(config: &BenchConfig) -> Vec<Setup<'_>> {
    let mut setups = Vec::new();
    for repetition in 0..config.trials {
        for &processes in &config.process_counts {
            for &workers in &config.worker_counts {
                for (stack, plan) in &config.plans {
                    let grpc = stack.is_grpc();
                    let hops = match config.workload {
                        BenchWorkload::Pipeline if grpc => config.hops.clone(),
                        _ => vec![HopMode::Stream],
                    };
                    let execs = match config.workload {
                        BenchWorkload::Payload if grpc => config.grpc_execs.clone(),
                        _ => vec![GrpcExec::Async],
                    };
                    for &hop in &hops {
                        for &grpc_exec in &execs {
                            let mut variant = Vec::new();
                            if hops.len() > 1 || config.hops.len() > 1 && grpc {
                                variant.push(format!("{} hops", hop.name()));
                            }
                            if execs.len() > 1 {
                                variant.push(format!("handlers {grpc_exec}"));
                            }
                            setups.push(Setup {
                                deployment: Deployment {
                                    workload: config.workload,
                                    stack: *stack,
                                    workers,
                                    max_size_kb: config.max_size_kb,
                                    processes,
                                    records: config.records,
                                    hop,
                                    grpc_exec,
                                    tls: None,
                                },
                                plan,
                                repetition,
                                variant: (!variant.is_empty()).then(|| variant.join(", ")),
                            });
                        }
                    }
                }
            }
        }
    }
    setups
}
