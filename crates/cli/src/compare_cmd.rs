//! `wirebench compare A.json B.json`: what changed between two runs, in
//! words; with `--fail-if-slower 10%`, exit code 1 when any trial's
//! throughput fell by more than that, for CI.

use std::path::PathBuf;
use std::process::ExitCode;

use wirebench_report::compare::{compare, parse_threshold};

use crate::report_cmd::read_result;

pub fn compare_cmd(
    before: &PathBuf,
    after: &PathBuf,
    fail_if_slower: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let threshold = fail_if_slower
        .map(parse_threshold)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let comparison = compare(&read_result(before)?, &read_result(after)?);
    println!("{} -> {}", before.display(), after.display());
    print!("{}", comparison.render());
    let Some(threshold) = threshold else {
        return Ok(ExitCode::SUCCESS);
    };
    let slower = comparison.slower_than(threshold);
    if slower.is_empty() {
        println!("no trial is more than {:.0}% slower", threshold * 100.0);
        return Ok(ExitCode::SUCCESS);
    }
    for diff in &slower {
        let r = diff.throughput().relative().unwrap_or(0.0);
        println!(
            "SLOWER: {}: throughput {:+.1}% (threshold -{:.0}%)",
            diff.key,
            r * 100.0,
            threshold * 100.0
        );
    }
    Ok(ExitCode::from(1))
}
