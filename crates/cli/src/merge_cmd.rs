//! `wirebench merge FILES... -o merged.json`: the results of the agents of
//! a sharded run (`--shard I/N`) added up exactly into one result, which
//! `report` and `compare` read like any other. `-` reads result documents
//! from standard input, one per line, among any other lines: an agent's
//! log (`kubectl logs`) holds its table and, with `--json -`, its result on
//! one line, so `kubectl logs -l job-name=... | wirebench merge -` works.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use wirebench_report::{Exporter, JsonExporter, RunResult, TableExporter};

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The agents' result files; - reads result documents, one per line,
    /// from standard input (other lines are skipped).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Write the merged result here (atomically); without it, the table
    /// only.
    #[arg(long, short = 'o')]
    pub out: Option<PathBuf>,
}

pub fn merge(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut inputs = Vec::new();
    for file in &args.files {
        if file == "-" {
            inputs.extend(from_lines(std::io::stdin().lock(), "stdin")?);
        } else {
            let path = PathBuf::from(file);
            inputs.push((file.clone(), crate::report_cmd::read_result(&path)?));
        }
    }
    let merged = wirebench_report::merge(inputs, std::env::args().collect())?;
    print!("{}", TableExporter.render(&merged));
    if let Some(path) = &args.out {
        wirebench_report::write_atomically(path, JsonExporter.render(&merged).as_bytes())
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("result: {}", path.display());
    }
    Ok(crate::trial::exit_code(&merged))
}

/// The result documents among `lines` (a log), each named by its line.
fn from_lines(lines: impl BufRead, source: &str) -> anyhow::Result<Vec<(String, RunResult)>> {
    let mut found = Vec::new();
    for (number, line) in lines.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read {source}"))?;
        let line = line.trim();
        if !(line.starts_with('{') && line.contains("\"schema_version\"")) {
            continue;
        }
        let result: RunResult = serde_json::from_str(line)
            .with_context(|| format!("{source}:{}: not a wirebench result", number + 1))?;
        found.push((format!("{source}:{}", number + 1), result));
    }
    anyhow::ensure!(
        !found.is_empty(),
        "{source} holds no wirebench result (write each agent's with --json -, one per line)"
    );
    Ok(found)
}
