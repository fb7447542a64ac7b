//! The `wirebench` command: clap in, typed settings, then one library call
//! per subcommand. `main.rs` only calls [`main`].

pub mod agent;
pub mod args;
pub mod bench;
pub mod children;
pub mod compare_cmd;
pub mod deploy;
pub mod k8s;
pub mod live_view;
pub mod load_cmd;
pub mod merge_cmd;
pub mod mix_file;
pub mod numbers;
pub mod outputs;
pub mod placement;
pub mod preset;
pub mod profile;
pub mod progress;
pub mod provenance;
pub mod report_cmd;
pub mod serve;
pub mod server_metrics;
pub mod settings;
pub mod signals;
pub mod trial;

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;

use crate::args::{Cli, Command};

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::serve(*args).map(|()| ExitCode::SUCCESS),
        Command::Load(args) => load_cmd::load(*args),
        Command::Bench(args) => bench::bench(*args),
        Command::Report(args) => report_cmd::report(
            &args.result,
            args.format,
            args.out.as_ref(),
            &args.view.view(),
        )
        .map(|()| ExitCode::SUCCESS),
        Command::Merge(args) => merge_cmd::merge(args),
        Command::K8s(args) => k8s::k8s(args),
        Command::Compare(args) => {
            compare_cmd::compare_cmd(&args.before, &args.after, args.fail_if_slower.as_deref())
        }
    };
    result.unwrap_or_else(|err| {
        eprintln!("wirebench: error: {err:#}");
        if is_usage_error(&err) {
            ExitCode::from(USAGE_ERROR)
        } else {
            ExitCode::FAILURE
        }
    })
}

/// The exit code of flags that do not make a run (as clap's own, and as
/// the README documents): 2.
pub const USAGE_ERROR: u8 = 2;

/// Whether `err` is about the flags, found before anything ran: flags that
/// conflict, a plan, shard or template that cannot be.
fn is_usage_error(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<settings::SettingsError>()
            || e.is::<wirebench_load::PlanError>()
            || e.is::<wirebench_load::shard::ShardError>()
            || e.is::<wirebench_load::template::TemplateError>()
            || e.is::<wirebench_report::threshold::ThresholdError>()
    })
}

/// Threads for a runtime when nothing says otherwise: one per usable CPU.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The load engine's runtime, with `threads` worker threads.
pub fn client_runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")
}
