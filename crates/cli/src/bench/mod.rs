//! `wirebench bench`: the main job. For each trial: start its servers as
//! child processes on free loopback ports (behind the network proxy when
//! `--net` is given), run the same load against them while the probe watches
//! every process, stop them; then print the tables and the verdict. The
//! result file is rewritten (atomically) after every trial, so an
//! interrupted or crashed run keeps every trial it finished.

mod config;
mod target;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use wirebench_load::{Client, TlsClient, Trust};
use wirebench_netsim::Proxy;
use wirebench_proto::vocab::Workload;
use wirebench_report::{Exporter, Format, JsonExporter, RunResult, SCHEMA_VERSION, TableExporter};
use wirebench_server::tls::CertifiedKey;

use crate::args::{BenchArgs, BenchWorkload};
use crate::deploy::{self, TlsFiles};
use crate::preset::{BUILT_IN, Preset};
use crate::progress::Reporter;
use crate::signals::Cancel;
use crate::trial::{TrialSpec, trial};
use config::{BenchConfig, resolve, setups};
pub use target::front_target;

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
        "workload": workload(config.workload),
        "stacks": config.plans.iter().map(|(s, _)| s).collect::<Vec<_>>(),
        "size_kb": config.size_kb,
        "records": config.records,
        "hops": config.hops,
        "grpc_exec": config.grpc_execs.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "trials": config.trials,
        "net": config.net,
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
    if let Some(net) = &config.net {
        println!("network: {net} (user-space proxy between load generator and servers)");
    }
    let runtime = crate::client_runtime(config.placement.client_threads())?;
    runtime.block_on(run_trials(&config, settings))
}

fn workload(w: BenchWorkload) -> Workload {
    match w {
        BenchWorkload::Payload => Workload::Payload,
        BenchWorkload::Pipeline => Workload::Pipeline,
    }
}

/// A certificate for the run's +tls servers, written where they can read
/// it; the load generator trusts exactly this certificate.
struct RunTls {
    files: TlsFiles,
    cert_pem: String,
    _dir: tempfile::TempDir,
}

impl RunTls {
    fn new() -> anyhow::Result<RunTls> {
        let key = CertifiedKey::self_signed()?;
        let dir = tempfile::tempdir()?;
        let files = TlsFiles {
            cert: dir.path().join("cert.pem"),
            key: dir.path().join("key.pem"),
        };
        std::fs::write(&files.cert, &key.cert_pem)?;
        std::fs::write(&files.key, &key.key_pem)?;
        Ok(RunTls {
            files,
            cert_pem: key.cert_pem,
            _dir: dir,
        })
    }
}

async fn run_trials(config: &BenchConfig, settings: serde_json::Value) -> anyhow::Result<ExitCode> {
    let cancel = Cancel::on_signals(Some("stopping; writing what was measured so far"))?;
    let tls = if config.plans.iter().any(|(s, _)| s.tls) {
        Some(RunTls::new()?)
    } else {
        None
    };
    let mut result = RunResult {
        schema_version: SCHEMA_VERSION,
        run: crate::provenance::run_info(settings),
        trials: Vec::new(),
        summary: None,
    };
    for mut setup in setups(config) {
        if cancel.is_cancelled() {
            break;
        }
        let stack = setup.deployment.stack;
        if stack.tls {
            setup.deployment.tls = tls.as_ref().map(|t| t.files.clone());
        }
        let d = &setup.deployment;
        let plan = setup.plan;
        let label = match &setup.variant {
            Some(variant) => format!("{stack} ({variant})"),
            None => stack.name(),
        };
        println!(
            "{label}{}: {}; stop after {}; warm-up {}; {} connection(s); {}",
            if config.trials > 1 {
                format!(" #{}", setup.repetition + 1)
            } else {
                String::new()
            },
            plan.model(),
            plan.stop(),
            humantime::format_duration(plan.warmup()),
            plan.connections(),
            d.describe(config.size_kb),
        );
        let servers = deploy::start(d, config.placement.server.as_ref())?;
        let proxy = match &config.net {
            Some(net) => Some(
                Proxy::start(servers.front(), *net)
                    .await
                    .context("cannot start the network proxy")?,
            ),
            None => None,
        };
        let front = proxy.as_ref().map_or_else(|| servers.front(), Proxy::addr);
        let tls_client = match &tls {
            Some(tls) if stack.tls => Some(
                TlsClient::new("localhost", stack.alpn(), &Trust::Pem(tls.cert_pem.clone()))
                    .map_err(anyhow::Error::msg)?,
            ),
            _ => None,
        };
        let target = front_target(
            d.workload,
            stack,
            front,
            config.size_kb,
            config.records,
            tls_client,
        )?;
        let client = Arc::new(Client::new(&target, plan.connections()).await?);
        let probe =
            crate::trial::start_probe(plan, &servers.roles(), config.placement.client_set());
        let mut progress = Reporter::new(&label, plan, config.quiet);
        let outcome =
            wirebench_load::run_observed(plan, client, cancel.cancelled(), |p| progress.update(p))
                .await;
        progress.finish();
        let probed = probe.stop();
        drop(proxy);
        drop(servers);
        let spec = TrialSpec {
            stack,
            workload: workload(d.workload),
            target_label: target.label(),
            size_kb: (d.workload == BenchWorkload::Payload).then_some(config.size_kb),
            target: &target,
            plan,
        };
        let mut trial = trial(spec, &outcome);
        trial.server_workers = Some(d.workers);
        trial.server_processes = Some(d.processes);
        trial.repetition = setup.repetition;
        trial.variant = setup.variant.clone();
        trial.net = config.net.map(|n| n.to_string());
        if stack.is_grpc() {
            match d.workload {
                BenchWorkload::Pipeline => trial.hop = Some(d.hop.name().to_owned()),
                BenchWorkload::Payload => trial.grpc_exec = Some(d.grpc_exec.to_string()),
            }
        }
        crate::trial::apply_probe(&mut trial, probed, &config.placement);
        result.trials.push(trial);
        result.run.interrupted = outcome.interrupted;
        result.summary = wirebench_report::summary::summarize(&result);
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
