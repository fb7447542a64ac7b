//! What `load` drives when it drives more than one thing: several URLs
//! (`load URL1 URL2`), a targets file (`--targets`: vegeta's lines, or a
//! mix file's TOML), or a mix (`--mix`). Each target is parsed with the
//! command's own flags, as if it were the only URL, then changed where
//! its line or call says otherwise (method, body, headers, data).

use std::path::Path;

use anyhow::{Context, bail};
use wirebench_load::contract::{Job, MessageJob};

use super::{ParsedTarget, parse_target};
use crate::args::LoadCmdArgs;
use crate::mix_file::{MixCall, MixFile};

/// One target of a run, with its name and weight.
pub struct NamedTarget {
    pub name: String,
    pub weight: f64,
    pub parsed: ParsedTarget,
}

/// Every target the command names, in order; one for a plain `load URL`.
pub async fn parse_targets(args: &LoadCmdArgs) -> anyhow::Result<(Vec<NamedTarget>, u64)> {
    let given = [
        !args.urls.is_empty(),
        args.targets.is_some(),
        args.mix.is_some(),
    ];
    match given.iter().filter(|g| **g).count() {
        0 => bail!("give a URL (or several), --targets FILE or --mix FILE"),
        1 => {}
        _ => bail!("give URLs, --targets FILE or --mix FILE: one of them"),
    }
    let mix = match (&args.mix, &args.targets) {
        (Some(path), _) => Some(MixFile::read(path)?),
        (None, Some(path)) if path.extension().is_some_and(|e| e == "toml") => {
            Some(MixFile::read(path)?)
        }
        _ => None,
    };
    if let Some(mix) = mix {
        let mut targets = Vec::new();
        for (index, call) in mix.calls.iter().enumerate() {
            targets.push(NamedTarget {
                name: call.name.clone(),
                weight: call.weight,
                parsed: mix_call(args, &mix, call, index).await?,
            });
        }
        return Ok((targets, mix.seed));
    }
    let lines = match &args.targets {
        Some(path) => vegeta_targets(path)?,
        None => args
            .urls
            .iter()
            .map(|url| Line {
                method: None,
                url: url.clone(),
                headers: Vec::new(),
                body: None,
            })
            .collect(),
    };
    let mut targets = Vec::new();
    for line in lines {
        let mut one = args.for_url(&line.url);
        if line.method.is_some() {
            one.method = line.method;
        }
        if line.body.is_some() {
            one.body_file = line.body;
        }
        one.headers.extend(line.headers);
        let parsed = parse_target(&one).await?;
        let name = parsed.target.label();
        anyhow::ensure!(
            !targets.iter().any(|t: &NamedTarget| t.name == name),
            "{name} is named twice: each target once (a weight is a mix file's, see --mix)"
        );
        targets.push(NamedTarget {
            name,
            weight: 1.0,
            parsed,
        });
    }
    Ok((targets, args.seed))
}

/// Call `index` of a mix, with the command's flags.
async fn mix_call(
    args: &LoadCmdArgs,
    mix: &MixFile,
    call: &MixCall,
    index: usize,
) -> anyhow::Result<ParsedTarget> {
    let at = format!("{} line {}", mix.path.display(), call.line);
    let url = call.url.as_deref().with_context(|| {
        format!(
            "{at}: call '{}' has no url: `load --mix` needs each call's url (bench --mix starts its own servers)",
            call.name
        )
    })?;
    let mut one = args.for_url(url);
    one.headers.extend(call.headers.iter().cloned());
    if let Some((source, direction)) = &call.message {
        // A message call goes to a mix server (`serve mix`): the call's
        // route, method or tcp call byte.
        anyhow::ensure!(
            call.method.is_none() && call.data.is_none() && call.body_file.is_none(),
            "{at}: call '{}' has a message: its requests are the message's (no method, data or body_file)",
            call.name
        );
        let parts = super::url_parts(&one)?;
        let (stack, base, authority) = (parts.stack, parts.base, parts.authority.to_owned());
        let source = crate::args::available(source)?;
        let job = Job::Message(std::sync::Arc::new(
            MessageJob::load(source, *direction).with_context(|| at.clone())?,
        ));
        let index = u8::try_from(index).expect("a mix file has at most MAX_MIX_CALLS calls");
        // The rest of the target (TLS, authority) as for any URL of it.
        let mut parsed = parse_target(&LoadCmdArgs {
            url: format!(
                "{}://{}{}",
                url.split_once("://").map_or("http", |(scheme, _)| scheme),
                authority,
                if base == "http" { "/" } else { "" }
            ),
            ..one
        })
        .await
        .with_context(|| at.clone())?;
        parsed.target.kind = job.mix_request(stack, &call.name, index)?;
        parsed.workload = job.workload();
        parsed.size_kb = job.size_kb();
        parsed.variant = Some(format!("mix {}", mix_label(&mix.path)));
        parsed.codegen = job.codegen();
        return Ok(parsed);
    }
    if let Some(method) = &call.method {
        if url.starts_with("grpc") {
            one.call = Some(method.clone());
        } else {
            one.method = Some(method.clone());
        }
    }
    anyhow::ensure!(
        call.data.is_none() || call.body_file.is_none(),
        "{at}: call '{}' has data and body_file: one of them",
        call.name
    );
    one.data.clone_from(&call.data);
    // An HTTP call's data is its body, read from a file while the target
    // is parsed (the file goes with it).
    let _body = match &call.data {
        Some(data) if !url.starts_with("grpc") => {
            one.data = None;
            let file = tempfile::NamedTempFile::new().context("cannot write a call's body")?;
            std::fs::write(file.path(), data).context("cannot write a call's body")?;
            one.body_file = Some(file.path().to_owned());
            Some(file)
        }
        _ => None,
    };
    if call.body_file.is_some() {
        one.body_file.clone_from(&call.body_file);
    }
    parse_target(&one).await.with_context(|| at.clone())
}

/// A mix's name in labels: its file's stem.
pub fn mix_label(path: &Path) -> String {
    path.file_stem().map_or_else(
        || path.display().to_string(),
        |s| s.to_string_lossy().into_owned(),
    )
}

/// One target of a vegeta-style targets file.
#[derive(Debug, PartialEq)]
struct Line {
    method: Option<String>,
    url: String,
    headers: Vec<String>,
    body: Option<std::path::PathBuf>,
}

/// vegeta's targets format: `METHOD URL` (or a bare URL), then its
/// `Name: value` headers and an optional `@body-file`, one per line;
/// blank lines and `#` comments between targets.
fn vegeta_targets(path: &Path) -> anyhow::Result<Vec<Line>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the targets {}", path.display()))?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut lines: Vec<Line> = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let at = || format!("{} line {}", path.display(), number + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let first = words.next().expect("not empty");
        if first.contains("://") || words.clone().next().is_some_and(|w| w.contains("://")) {
            let (method, url) = if first.contains("://") {
                (None, first)
            } else {
                (Some(first.to_owned()), words.next().expect("checked"))
            };
            anyhow::ensure!(
                words.next().is_none(),
                "{}: '{line}': one METHOD and one URL",
                at()
            );
            lines.push(Line {
                method,
                url: url.to_owned(),
                headers: Vec::new(),
                body: None,
            });
            continue;
        }
        let target = lines.last_mut().with_context(|| {
            format!(
                "{}: '{line}' comes before any target: start with METHOD URL",
                at()
            )
        })?;
        if let Some(body) = line.strip_prefix('@') {
            target.body = Some(folder.join(body));
        } else if line.contains(':') {
            target.headers.push(line.to_owned());
        } else {
            bail!(
                "{}: '{line}' is neither METHOD URL, a Name: value header nor @body-file",
                at()
            );
        }
    }
    anyhow::ensure!(!lines.is_empty(), "{} names no target", path.display());
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vegeta_lines_read_with_their_headers_and_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.txt");
        std::fs::write(
            &path,
            "# two targets\nGET http://127.0.0.1:1/a\nX-Account: 1\n\nPOST http://127.0.0.1:1/b\n@body.json\nhttp://127.0.0.1:1/c\n",
        )
        .unwrap();
        let lines = vegeta_targets(&path).unwrap();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].method.as_deref(), Some("GET"));
        assert_eq!(lines[0].headers, vec!["X-Account: 1".to_owned()]);
        assert_eq!(lines[1].body, Some(dir.path().join("body.json")));
        assert_eq!(lines[2].method, None);
        std::fs::write(&path, "X-Account: 1\n").unwrap();
        let err = vegeta_targets(&path).unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
    }
}
