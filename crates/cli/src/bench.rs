//! `wirebench bench`: the main job. For each stack in turn: start its
//! server as a child process on a free loopback port, run the same load
//! against it, stop it; then print the table side by side and the verdict.
//! The result file is rewritten (atomically) after every trial, so an
//! interrupted or crashed run keeps every trial it finished.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use wirebench_load::verify::BodyCheck;
use wirebench_load::{Client, GrpcCall, HttpTarget, LoadPlan, StopAt, Target};
use wirebench_probe::CpuSet;
use wirebench_proto::vocab::{Stack, Workload};
use wirebench_report::{Exporter, JsonExporter, RunResult, SCHEMA_VERSION, TableExporter};

use crate::args::BenchArgs;
use crate::children::ServerProcess;
use crate::placement::CpuPlacement;
use crate::preset::{BUILT_IN, Preset};
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

pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.list_presets {
        for (name, text) in BUILT_IN {
            let preset = Preset::parse(name, text)?;
            println!("{name:<12} {}", preset.description.unwrap_or_default());
        }
        return Ok(ExitCode::SUCCESS);
    }
    crate::provenance::warn_if_debug_build();
    let preset = match &args.preset {
        Some(name) => Preset::load(name)?,
        None => Preset::default(),
    };
    if let Some(workload) = preset.workload.as_deref() {
        anyhow::ensure!(
            workload == "payload",
            "preset workload '{workload}' is not available in this build (only 'payload')"
        );
    }
    let load = preset.fill(args.load.clone());
    let stacks = args
        .stacks
        .clone()
        .or_else(|| preset.stacks.clone())
        .unwrap_or_else(|| Stack::ALL.to_vec());
    anyhow::ensure!(!stacks.is_empty(), "--stacks names no stack");
    let size_kb = args.size_kb.or(preset.size_kb).unwrap_or(DEFAULT_SIZE_KB);
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
    let server_processes = args
        .server_processes
        .or(preset.server_processes)
        .unwrap_or(1);
    anyhow::ensure!(
        server_processes >= 1,
        "--server-processes must be at least 1"
    );
    let max_size_kb = args
        .max_size_kb
        .or(preset.max_size_kb)
        .unwrap_or(wirebench_server::DEFAULT_MAX_SIZE_KB)
        .max(size_kb);
    let plans = stacks
        .iter()
        .map(|&stack| {
            let target = payload_target(stack, "127.0.0.1:0".parse().expect("literal"), size_kb)?;
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
    let json_path = load.json.clone().unwrap_or_else(default_result_path);
    let settings = serde_json::json!({
        "command": "bench",
        "preset": args.preset,
        "stacks": stacks,
        "workload": Workload::Payload,
        "size_kb": size_kb,
        "server_workers": worker_counts,
        "server_processes": server_processes,
        "client_threads": placement.client_threads(),
        "client_cpus": placement.client,
        "server_cpus": placement.server,
        "max_size_kb": max_size_kb,
        "plans": plans.iter().map(|(s, p)| (s.name(), p)).collect::<BTreeMap<_, _>>(),
    });

    // Pinned before the runtime exists, so every thread it starts (and the
    // probe's) inherits the load generator's CPU set.
    if let Some(client) = &placement.client {
        client
            .pin_current_thread()
            .context("cannot pin the load generator")?;
    }
    println!("placement: {}", placement.describe());
    let runtime = crate::client_runtime(placement.client_threads())?;
    runtime.block_on(async {
        let cancel = Cancel::on_signals(Some("stopping; writing what was measured so far"))?;
        let mut result = RunResult {
            schema_version: SCHEMA_VERSION,
            run: crate::provenance::run_info(settings),
            trials: Vec::new(),
        };
        'trials: for &workers in &worker_counts {
            for (stack, plan) in &plans {
                if cancel.is_cancelled() {
                    break 'trials;
                }
                println!(
                    "{stack}: {}; stop after {}; warm-up {}; {} connection(s); {size_kb} KiB payload; \
                     {server_processes} server process(es) x {workers} worker(s)",
                    plan.model(),
                    plan.stop(),
                    humantime::format_duration(plan.warmup()),
                    plan.connections(),
                );
                let server_args = ServerArgs {
                    stack: *stack,
                    workers,
                    max_size_kb,
                    processes: server_processes,
                };
                let servers = start_servers(&server_args, placement.server.clone())?;
                let addr = servers[0].addr();
                let target = payload_target(*stack, addr, size_kb)?;
                let client = Arc::new(Client::new(&target, plan.connections()).await?);
                let pids: Vec<u32> = servers.iter().map(ServerProcess::pid).collect();
                let probe = crate::trial::start_probe(plan, &pids, placement.client_set());
                let outcome = wirebench_load::run(plan, client, cancel.cancelled()).await;
                let probed = probe.stop();
                drop(servers);
                let spec = TrialSpec {
                    stack: *stack,
                    workload: Workload::Payload,
                    target_label: target_label(&target),
                    size_kb: Some(size_kb),
                    target: &target,
                    plan,
                };
                let mut trial = trial(spec, &outcome);
                trial.server_workers = Some(workers);
                trial.server_processes = Some(server_processes);
                crate::trial::apply_probe(&mut trial, probed, &placement);
                result.trials.push(trial);
                result.run.interrupted = outcome.interrupted;
                wirebench_report::write_atomically(&json_path, JsonExporter.render(&result).as_bytes())
                    .with_context(|| format!("cannot write {}", json_path.display()))?;
            }
        }
        println!();
        print!("{}", TableExporter.render(&result));
        println!("result: {}", json_path.display());
        Ok(if result.run.interrupted {
            ExitCode::from(130)
        } else {
            ExitCode::SUCCESS
        })
    })
}

struct ServerArgs {
    stack: Stack,
    workers: usize,
    max_size_kb: u64,
    processes: usize,
}

/// Starts the server processes of one trial. Spawned from the thread that
/// runs `block_on`, which lives as long as the run: PR_SET_PDEATHSIG is tied
/// to that thread. With several processes, the first picks a free port and
/// the others join it with SO_REUSEPORT.
fn start_servers(args: &ServerArgs, cpus: Option<CpuSet>) -> anyhow::Result<Vec<ServerProcess>> {
    let mut servers: Vec<ServerProcess> = Vec::with_capacity(args.processes);
    for i in 0..args.processes {
        let port = servers.first().map_or(0, |first| first.addr().port());
        let mut command: Vec<String> = [
            "serve",
            "payload",
            "--stack",
            args.stack.name(),
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--workers",
            &args.workers.to_string(),
            "--max-size-kb",
            &args.max_size_kb.to_string(),
        ]
        .map(String::from)
        .to_vec();
        if args.processes > 1 {
            command.push("--reuse-port".into());
        }
        let label = format!("{} #{}", args.stack, i + 1);
        servers.push(ServerProcess::start(&label, &command, cpus.clone())?);
    }
    Ok(servers)
}

/// The seed-000 payload request for `stack` at `addr`.
pub fn payload_target(
    stack: Stack,
    addr: std::net::SocketAddr,
    size_kb: u64,
) -> anyhow::Result<Target> {
    let len = usize::try_from(size_kb * 1024).context("size too large")?;
    Ok(match stack {
        Stack::Rest => Target::Http(HttpTarget {
            uri: format!("http://{addr}/payload?size_in_kb={size_kb}").parse()?,
            method: http::Method::GET,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::new(),
            check: BodyCheck::PayloadJson { len },
        }),
        Stack::Grpc => Target::Grpc {
            authority: addr.to_string(),
            call: GrpcCall::GetLargePayload {
                size_in_kb: i64::try_from(size_kb)?,
            },
        },
    })
}

fn target_label(target: &Target) -> String {
    match target {
        Target::Http(http) => http.uri.to_string(),
        Target::Grpc { authority, .. } => {
            format!("grpc://{authority}/{}", GrpcCall::GET_LARGE_PAYLOAD)
        }
    }
}

/// `results/<UTC time>/result.json`.
fn default_result_path() -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(SystemTime::now())
        .to_string()
        .replace(':', "-");
    PathBuf::from("results").join(stamp).join("result.json")
}
