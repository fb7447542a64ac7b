//! `wirebench bench`: the main job. For each trial: start its servers as
//! child processes on free loopback ports (behind the network proxy when
//! `--net` is given), run the same load against them while the probe watches
//! every process, stop them; then print the tables and the verdict. The
//! result file is rewritten (atomically) after every trial, so an
//! interrupted or crashed run keeps every trial it finished.

mod capacity;
mod config;
mod remote;
mod resources;
mod settings;
mod trials;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use wirebench_netsim::netns::VethPath;
use wirebench_report::{Exporter, Format, JsonExporter, RunResult, TableExporter};
use wirebench_server::tls::CertifiedKey;

use crate::args::BenchArgs;
use crate::deploy::TlsFiles;
use crate::preset::{BUILT_IN, Preset};
use crate::progress::Watch;
use crate::signals::Cancel;
use crate::trial::{ServerSpec, TrialSpec, Window, measure};
use capacity::CapacitySearch;
use config::{BenchConfig, resolve};
use resources::Resources;
use trials::TrialPlan;

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
    // Before any server starts: a run is not lost to a folder that cannot
    // take its files. `--json`'s folder must exist; `--out` is made.
    crate::outputs::check_writable(
        &config.json_path,
        args.load.json.is_none() || config.json_stdout,
    )?;
    crate::outputs::check_writable(&config.out_dir.join("report.html"), true)?;
    // Thousands of connections need thousands of sockets (the plan was
    // checked against the limit this raises to).
    crate::provenance::raise_open_files_limit();

    // Pinned before the runtime exists, so every thread it starts (and the
    // probe's) inherits the load generator's CPU set.
    if let Some(client) = &config.placement.client {
        client
            .pin_current_thread()
            .context("cannot pin the load generator")?;
    }
    println!("placement: {}", config.placement.describe());
    if let Some(message) = &config.settings.message {
        println!("messages (encoded once; every answer is checked against these bytes):");
        for size in &message.sizes {
            let name = match (size.target_kb, size.messages) {
                (Some(kb), _) => format!("{} ~{kb} KiB", size.message),
                (None, 1) => size.message.clone(),
                (None, n) => format!("{} (mean of {n})", size.message),
            };
            println!(
                "  {name:<28} protobuf {:>9} B, JSON {:>9} B ({:.2}x)",
                size.protobuf_bytes,
                size.json_bytes,
                size.json_bytes as f64 / size.protobuf_bytes.max(1) as f64
            );
        }
    }
    if let Some(net) = &config.settings.net {
        let how = match config.settings.netns {
            true => "in the kernel of the namespace path: a TUN delay line, nftables loss, tbf",
            false => "user-space proxy between load generator and servers",
        };
        println!("network: {net} ({how})");
    }
    let runtime = crate::client_runtime(config.placement.client_threads())?;
    match &config.settings.capacity {
        Some(search) => runtime.block_on(run_capacity(&config, search)),
        None => runtime.block_on(run_trials(&config)),
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

async fn run_trials(config: &BenchConfig) -> anyhow::Result<ExitCode> {
    let (run, mut result) = begin(config)?;
    let profiles = match config.profile {
        true => {
            let dir = tempfile::tempdir()?;
            match crate::profile::available(dir.path()) {
                Ok(()) => Some(dir),
                Err(why) => {
                    println!("profile: unavailable, running without it: {why}");
                    None
                }
            }
        }
        false => None,
    };
    for (k, plan) in config.trials.iter().enumerate() {
        if run.cancel.is_cancelled() {
            break;
        }
        let profile_dir = profiles.as_ref().map(|dir| dir.path());
        let start = config
            .start
            .map(|start| start + slot(&config.trials) * u32::try_from(k).unwrap_or(u32::MAX));
        let trial = run_trial(config, plan, &run, profile_dir, start).await?;
        result.push_trial(trial);
        // A failed write keeps the result elsewhere; the run goes on.
        if let Err(err) = write_result(config, &result) {
            eprintln!("wirebench: {err:#}");
        }
    }
    finish(config, &result)
}

/// `--find-capacity`: each stack's search, one step (a trial at one
/// rate) after another; the result holds the searches, not the steps.
async fn run_capacity(config: &BenchConfig, search: &CapacitySearch) -> anyhow::Result<ExitCode> {
    let (run, mut result) = begin(config)?;
    let cancel = &run.cancel;
    for plan in config.trials.iter().filter(|p| p.repetition == 0) {
        if cancel.is_cancelled() {
            break;
        }
        let found = capacity::search(search, plan, cancel, async |step: &TrialPlan| {
            run_trial(config, step, &run, None, None).await
        })
        .await?;
        result.capacity.push(found);
        result.run.interrupted = cancel.is_cancelled();
        write_result(config, &result)?;
    }
    finish(config, &result)
}

/// What every trial of a run shares.
struct Run {
    cancel: Cancel,
    /// The certificate of the +tls stacks.
    tls: Option<RunTls>,
    /// `--netns`: the servers' namespace and the veth pair to it.
    netns: Option<VethPath>,
}

/// What every run needs first: Ctrl-C handling, the certificate of the
/// +tls stacks, the network path of `--netns`, an empty result.
fn begin(config: &BenchConfig) -> anyhow::Result<(Run, RunResult)> {
    let cancel = Cancel::on_signals(Some("stopping; writing what was measured so far"))?;
    let tls = if config.settings.stacks.iter().any(|s| s.tls) {
        Some(RunTls::new()?)
    } else {
        None
    };
    let netns = match config.settings.netns {
        true => {
            let stale = wirebench_netsim::netns::remove_stale();
            if !stale.is_empty() {
                println!("removed what dead runs left behind: {}", stale.join(", "));
            }
            let path = VethPath::create().context("--netns")?;
            println!("network path: {}", path.describe());
            Some(path)
        }
        false => None,
    };
    let settings = serde_json::to_value(&config.settings)?;
    let result = RunResult::new(crate::provenance::run_info(settings));
    Ok((Run { cancel, tls, netns }, result))
}

/// Writes the result as it stands (after every trial or search); where it
/// went (a fallback file when its own path failed).
fn write_result(config: &BenchConfig, result: &RunResult) -> anyhow::Result<PathBuf> {
    crate::outputs::write_or_keep(&config.json_path, JsonExporter.render(result).as_bytes())
}

/// Room between two trials' slots (`--start-at`): servers start and
/// connections open in it.
const SLOT_GAP: std::time::Duration = std::time::Duration::from_secs(5);

/// The time every trial is given when agents start trials together
/// (`--start-at`): the longest warm-up and window of any trial, and
/// [`SLOT_GAP`].
fn slot(trials: &[TrialPlan]) -> std::time::Duration {
    let longest = trials
        .iter()
        .map(|t| {
            t.load.warmup()
                + match t.load.stop() {
                    wirebench_load::StopAt::Duration(window) => window,
                    wirebench_load::StopAt::Requests(_) => std::time::Duration::ZERO,
                }
        })
        .max()
        .unwrap_or_default();
    longest + SLOT_GAP
}

/// Prints the table and writes the reports; the exit code.
fn finish(config: &BenchConfig, result: &RunResult) -> anyhow::Result<ExitCode> {
    println!();
    print!("{}", TableExporter.render_as(result, &config.view));
    if config.json_stdout {
        println!("{}", serde_json::to_string(result)?);
    }
    println!("result: {}", write_result(config, result)?.display());
    for path in write_reports(config, result)? {
        println!("report: {}", path.display());
    }
    Ok(crate::trial::exit_code(result))
}

/// Starts the plan's servers (behind the proxy when `--net` is given),
/// runs its load while the probe watches (and perf samples, with a
/// `profile_dir`), stops them: one trial.
async fn run_trial(
    config: &BenchConfig,
    plan: &TrialPlan,
    run: &Run,
    profile_dir: Option<&std::path::Path>,
    start: Option<std::time::SystemTime>,
) -> anyhow::Result<wirebench_report::Trial> {
    let d = &plan.deployment;
    let stack = d.stack;
    let label = wirebench_report::label::stack_label(stack, plan.variant.as_deref());
    let load = &plan.load;
    println!("{}", header(config, plan, &label));
    let mut resources = Resources::start(config, plan, run).await?;
    let roles = resources.roles();
    let recording = match profile_dir {
        Some(dir) => {
            let pids: Vec<u32> = roles.iter().map(|(_, pid)| *pid).collect();
            let data = dir.join(format!("trial-{}.data", std::process::id()));
            crate::profile::start(&pids, load.warmup(), data)
                .map_err(|why| println!("{label}: no profile: {why}"))
                .ok()
        }
        None => None,
    };
    let lateness_ms = crate::agent::wait_for(start, &run.cancel).await;
    let started_at = crate::provenance::now_rfc3339();
    let watcher = Watch::new(
        &label,
        load,
        config.quiet,
        &config.settings.thresholds,
        config.settings.abort_after,
    );
    let metrics_urls = config.settings.remote.metrics_of(stack);
    let window = Window {
        plan: load,
        watcher,
        servers: &roles,
        client_cpus: config.placement.client_set(),
        metrics_urls: &metrics_urls,
        cancel: &run.cancel,
    };
    let measured = match &resources.mixed {
        Some((mixed, _)) => measure(window, Arc::clone(mixed)).await,
        None => measure(window, Arc::clone(&resources.client)).await,
    };
    let profile = recording.and_then(|recording| {
        recording
            .finish()
            .map_err(|why| println!("{label}: no profile: {why}"))
            .ok()
    });
    let started = resources.started_servers();
    resources.stop_servers();
    let spec = TrialSpec {
        stack,
        workload: plan.job.workload(),
        size_kb: plan.job.size_kb(),
        message: plan.message.clone(),
        codegen: plan.job.codegen(),
        target: &resources.target,
        plan: load,
        servers: started.then(|| ServerSpec {
            workers: d.workers,
            processes: d.processes,
            hop: d.hop().map(|hop| hop.name().to_owned()),
            grpc_exec: d.grpc_exec().map(|exec| exec.to_string()),
            grpc_impl: d.grpc_impl().map(|i| i.to_string()),
            json_codec: d.json_codec.map(|codec| codec.to_string()),
        }),
        repetition: plan.repetition,
        tls_version: resources.client.tls_version(),
        calls: resources.calls(plan),
        variant: plan.variant.clone(),
        net: plan.net.map(|n| n.to_string()),
        thresholds: &config.settings.thresholds,
        aborted: measured.aborted,
        agent: crate::agent::describe(load.shard(), lateness_ms, started_at),
        server_metrics: measured.server_metrics,
        profile,
        network_path: resources.network_path.clone(),
    };
    Ok(crate::trial::assemble(
        spec,
        &measured.outcome,
        measured.probed,
        &config.placement,
    ))
}

/// The trial's first line: what runs, how long, against what servers.
fn header(config: &BenchConfig, plan: &TrialPlan, label: &str) -> String {
    let load = &plan.load;
    format!(
        "{label}{}: {}; stop after {}; warm-up {}; {} connection(s); {}{}",
        if config.settings.trials > 1 {
            format!(" #{}", plan.repetition + 1)
        } else {
            String::new()
        },
        load.describe_model(),
        load.stop(),
        humantime::format_duration(load.warmup()),
        if load.shard().is_whole() {
            load.connections().to_string()
        } else {
            format!(
                "{} (agent {}; {} for all agents)",
                load.connections(),
                load.shard(),
                load.connections_total()
            )
        },
        plan.job
            .size_kb()
            .map_or_else(String::new, |kb| format!("{kb} KiB; ")),
        plan.deployment.describe(),
    )
}

/// Writes report.html and report.md beside the result; returns their paths.
fn write_reports(config: &BenchConfig, result: &RunResult) -> anyhow::Result<Vec<PathBuf>> {
    let html = crate::outputs::write_or_keep(
        &config.out_dir.join("report.html"),
        Format::Html
            .exporter()
            .render_as(result, &config.view)
            .as_bytes(),
    )?;
    let markdown =
        crate::outputs::write_markdown(&config.out_dir.join("report.md"), result, &config.view)?;
    Ok(vec![html, markdown])
}
