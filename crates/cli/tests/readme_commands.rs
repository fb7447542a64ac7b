//! The user's docs cannot rot: every `wirebench` command written in the
//! README and in docs/ (in a `sh` block, or after `cargo run --release --`)
//! is parsed by the command line wirebench ships, flags, values and all. A
//! renamed flag, a stack that is gone or a duration that no longer parses
//! fails here, with the file and line. The commands that need a server
//! are run for real, against the servers the docs start, by
//! `scripts/run-docs.py` in CI (and the echo example by `serve_and_load.rs`,
//! the peers' flags by `load_flags.rs`).

use std::path::Path;

use clap::Parser;
use wirebench::args::Cli;

/// The shell variables the docs use, with a value of the kind the shell
/// would give them.
const VARIABLES: [(&str, &str); 2] = [("$i", "0"), ("$start", "2030-01-01T00:00:00Z")];

/// Every `wirebench ...` command of a `sh` block: (file:line, argv).
fn commands(root: &Path, doc: &str) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(root.join(doc)).unwrap();
    let mut found = Vec::new();
    let mut in_sh = false;
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_sh = trimmed == "```sh" || trimmed == "```bash";
            continue;
        }
        if !in_sh {
            continue;
        }
        let (start, mut command) = match pending.take() {
            Some((start, head)) => (start, format!("{head} {trimmed}")),
            None => (i + 1, trimmed.to_owned()),
        };
        if let Some(head) = command.strip_suffix('\\') {
            pending = Some((start, head.to_owned()));
            continue;
        }
        // A comment, a pipe, a background `&`: the command is what comes
        // before (shlex keeps a `#` inside quotes).
        for (variable, value) in VARIABLES {
            command = command.replace(variable, value);
        }
        assert!(
            !(command.starts_with("wirebench ") && command.contains('$')),
            "{doc}:{start}: a shell variable this test does not know in `{command}`"
        );
        let Some(mut words) = shlex::split(&command) else {
            panic!("{doc}:{start}: unbalanced quotes in `{command}`");
        };
        if let Some(hash) = words.iter().position(|w| w.starts_with('#')) {
            words.truncate(hash);
        }
        if let Some(end) = words
            .iter()
            .position(|w| matches!(w.as_str(), "|" | "&" | "&&" | ";" | ">"))
        {
            words.truncate(end);
        }
        command = words.join(" ");
        let argv = match words.first().map(String::as_str) {
            Some("wirebench") => words,
            Some("cargo") if command.starts_with("cargo run --release -- ") => {
                let mut argv = vec!["wirebench".to_owned()];
                argv.extend(words.into_iter().skip(4));
                argv
            }
            _ => continue,
        };
        found.push((format!("{doc}:{start}"), argv));
    }
    found
}

#[test]
fn every_wirebench_command_in_the_docs_parses() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut docs = vec!["README.md".to_owned()];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".md") {
            docs.push(format!("docs/{name}"));
        }
    }
    let mut checked = 0;
    let mut failures = Vec::new();
    for doc in &docs {
        for (place, argv) in commands(&root, doc) {
            checked += 1;
            if let Err(err) = Cli::try_parse_from(&argv) {
                let first = err
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                failures.push(format!("{place}: `{}`: {first}", argv.join(" ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} commands do not parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The README alone has dozens: a broken extraction must not pass.
    assert!(checked >= 60, "only {checked} commands found");
}
