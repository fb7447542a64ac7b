//! Where a run's files go: checked before anything starts, and kept when
//! a write fails after the run. A run is minutes of a user's time; a
//! read-only or full folder must cost a message at the start, not the run
//! at the end.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// `file` can be written: its folder exists (or, `create`, is made now)
/// and takes a new file. Nothing is left behind.
pub fn check_writable(file: &Path, create: bool) -> anyhow::Result<()> {
    let folder = match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !folder.is_dir() {
        if !create {
            bail!(
                "cannot write {}: the folder {} does not exist (make it first)",
                file.display(),
                folder.display()
            );
        }
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create the folder {}", folder.display()))?;
    }
    tempfile::NamedTempFile::new_in(folder).with_context(|| {
        format!(
            "cannot write {}: its folder does not take files",
            file.display()
        )
    })?;
    Ok(())
}

/// Writes `contents` to `path` atomically; when that fails, to a fallback
/// file in the temporary folder, whose path is printed and returned, so
/// that what was measured is never lost. An error only when both fail.
/// Writes the Markdown report at `path` with its charts as SVG files in
/// `charts/` beside it (a Markdown page cannot hold them); where the
/// report went.
pub fn write_markdown(
    path: &Path,
    result: &wirebench_report::RunResult,
    view: &wirebench_report::View,
) -> anyhow::Result<PathBuf> {
    use wirebench_report::Exporter;
    let dir = path
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join(wirebench_report::export::CHART_DIR);
    let mut view = *view;
    view.charts_beside = std::fs::create_dir_all(&dir).is_ok();
    if view.charts_beside {
        for chart in wirebench_report::export::chart_files(result) {
            wirebench_report::write_atomically(&dir.join(&chart.name), chart.svg.as_bytes())
                .with_context(|| format!("cannot write {}", dir.join(&chart.name).display()))?;
        }
    }
    let text = wirebench_report::MarkdownExporter.render_as(result, &view);
    write_or_keep(path, text.as_bytes())
}

pub fn write_or_keep(path: &Path, contents: &[u8]) -> anyhow::Result<PathBuf> {
    let failed = match wirebench_report::write_atomically(path, contents) {
        Ok(()) => return Ok(path.to_owned()),
        Err(err) => err,
    };
    let name = path.file_name().map_or_else(
        || "result.json".into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let fallback = std::env::temp_dir().join(format!("wirebench-{}-{name}", std::process::id()));
    wirebench_report::write_atomically(&fallback, contents).with_context(|| {
        format!(
            "cannot write {} ({failed}), nor the fallback {}",
            path.display(),
            fallback.display()
        )
    })?;
    eprintln!(
        "wirebench: cannot write {} ({failed}); kept in {}",
        path.display(),
        fallback.display()
    );
    Ok(fallback)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_refused_unless_ours_and_a_failed_write_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/r.json");
        let err = check_writable(&missing, false).unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
        assert!(!dir.path().join("no").exists(), "nothing created");
        check_writable(&missing, true).unwrap();
        assert!(dir.path().join("no/such").is_dir());
        assert_eq!(
            std::fs::read_dir(dir.path().join("no/such"))
                .unwrap()
                .count(),
            0
        );
        // A folder in the way of the file: the write fails, the fallback
        // keeps the contents.
        let blocked = dir.path().join("blocked");
        std::fs::create_dir(&blocked).unwrap();
        let kept = write_or_keep(&blocked, b"measured").unwrap();
        assert_ne!(kept, blocked);
        assert_eq!(std::fs::read(&kept).unwrap(), b"measured");
        std::fs::remove_file(kept).unwrap();
    }
}
