//! `wirebench report`: re-renders a saved result in any format.

use std::path::PathBuf;

use anyhow::Context;
use wirebench_report::{Format, RunResult};

pub fn read_result(path: &PathBuf) -> anyhow::Result<RunResult> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let result: RunResult = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a wirebench result", path.display()))?;
    anyhow::ensure!(
        result.schema_version == wirebench_report::SCHEMA_VERSION,
        "{} has schema_version {}; this wirebench reads {}",
        path.display(),
        result.schema_version,
        wirebench_report::SCHEMA_VERSION
    );
    Ok(result)
}

pub fn report(
    path: &PathBuf,
    format: Format,
    out: Option<&PathBuf>,
    view: &wirebench_report::View,
) -> anyhow::Result<()> {
    let result = read_result(path)?;
    if let (Format::Markdown, Some(out)) = (format, out) {
        let written = crate::outputs::write_markdown(out, &result, view)?;
        println!(
            "{format} report: {} (charts in its charts/ folder)",
            written.display()
        );
        return Ok(());
    }
    let text = format.exporter().render_as(&result, view);
    match out {
        Some(out) => {
            wirebench_report::write_atomically(out, text.as_bytes())
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("{format} report: {}", out.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}
