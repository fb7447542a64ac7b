//! A mix file: the named calls of an API with their weights, for
//! `bench --mix` (each call a message and a direction, served by every
//! stack at a route and a method named after the call) and `load --mix`
//! (each call also says where it goes: a URL, and for grpc:// a method).
//!
//! ```toml
//! [[call]]
//! name = "GetOrder"
//! weight = 70
//! shape = "order"
//! direction = "down"
//! ```
//!
//! Every error names the file and the line of the call it is about.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;
use toml::Spanned;
use wirebench_proto::message::{Direction, MessageSource, Shape, compiled::Codegen};

/// A mix, checked: at least one call, positive weights, names of their own.
#[derive(Debug, Clone)]
pub struct MixFile {
    pub path: PathBuf,
    pub calls: Vec<MixCall>,
    /// `seed` at the top of the file, else 1: the messages' values and
    /// the order of the picks.
    pub seed: u64,
}

/// One call of a mix.
#[derive(Debug, Clone)]
pub struct MixCall {
    pub name: String,
    pub weight: f64,
    /// Its line in the file, for errors.
    pub line: usize,
    /// The message: a built-in shape or the user's, with its direction.
    pub message: Option<(MessageSource, Direction)>,
    /// `load --mix`: where the call goes, and how.
    pub url: Option<String>,
    pub method: Option<String>,
    pub data: Option<String>,
    pub body_file: Option<PathBuf>,
    pub headers: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileForm {
    #[serde(default)]
    seed: Option<u64>,
    #[serde(rename = "call", default)]
    calls: Vec<Spanned<CallForm>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallForm {
    name: String,
    #[serde(default = "one")]
    weight: f64,
    shape: Option<String>,
    items: Option<u32>,
    /// The user's message, `pkg.Type` of `proto`.
    message: Option<String>,
    proto: Option<PathBuf>,
    /// The user's message's values (JSON Lines).
    data_file: Option<PathBuf>,
    #[serde(default)]
    direction: Option<String>,
    url: Option<String>,
    method: Option<String>,
    /// gRPC request as JSON, or an HTTP body; templates allowed.
    data: Option<String>,
    body_file: Option<PathBuf>,
    #[serde(default)]
    headers: Vec<String>,
}

fn one() -> f64 {
    1.0
}

impl MixFile {
    /// Reads and checks `path`; relative paths inside it are from its
    /// folder.
    pub fn read(path: &Path) -> anyhow::Result<MixFile> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the mix {}", path.display()))?;
        MixFile::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> anyhow::Result<MixFile> {
        let form: FileForm =
            toml::from_str(text).with_context(|| format!("{} is not a mix", path.display()))?;
        let seed = form.seed.unwrap_or(1);
        let folder = path.parent().unwrap_or(Path::new(""));
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        anyhow::ensure!(
            !form.calls.is_empty(),
            "{}: no [[call]]: a mix needs at least one call",
            path.display()
        );
        // Each call has its route, its method and (on tcp) its call byte:
        // the servers, bench and load all take a mix of at most this many.
        anyhow::ensure!(
            form.calls.len() <= wirebench_server::message::MAX_MIX_CALLS,
            "{}: {} calls; a mix has at most {}",
            path.display(),
            form.calls.len(),
            wirebench_server::message::MAX_MIX_CALLS
        );
        let mut calls: Vec<MixCall> = Vec::new();
        for spanned in form.calls {
            let line = line_of(spanned.span().start);
            let at = format!("{} line {line}", path.display());
            let call = spanned.into_inner();
            anyhow::ensure!(
                !call.name.is_empty()
                    && call
                        .name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "{at}: the call's name '{}' must be letters, digits, _ or - (it names a route and a method)",
                call.name
            );
            if let Some(first) = calls.iter().find(|c| c.name == call.name) {
                anyhow::bail!(
                    "{at}: a second call named '{}' (the first is on line {}): each call's name must be its own",
                    call.name,
                    first.line
                );
            }
            anyhow::ensure!(
                call.weight.is_finite() && call.weight > 0.0,
                "{at}: call '{}' has weight {}: a weight must be a positive number",
                call.name,
                call.weight
            );
            let direction =
                match &call.direction {
                    Some(d) => Some(d.parse::<Direction>().map_err(|_| {
                        anyhow::anyhow!("{at}: direction '{d}': use down, up or echo")
                    })?),
                    None => None,
                };
            let resolve = |p: &PathBuf| folder.join(p);
            let source = match (&call.shape, &call.message) {
                (Some(_), Some(_)) => {
                    anyhow::bail!(
                        "{at}: call '{}' has a shape and a message: one of them",
                        call.name
                    )
                }
                (Some(shape), None) => {
                    let shape: Shape = shape.parse().map_err(|_| {
                        anyhow::anyhow!(
                            "{at}: unknown shape '{shape}': tiny, order, telemetry, text or binary"
                        )
                    })?;
                    Some(MessageSource::shape(
                        shape,
                        seed,
                        call.items,
                        Codegen::Compiled,
                    ))
                }
                (None, Some(message)) => {
                    let proto = call.proto.as_ref().with_context(|| {
                        format!("{at}: message '{message}' needs proto = \"FILE.proto\"")
                    })?;
                    Some(MessageSource::Proto {
                        proto: resolve(proto),
                        include: Vec::new(),
                        message: message.clone(),
                        data: call.data_file.as_ref().map(resolve),
                        seed,
                        items: call.items.unwrap_or(3),
                        string_bytes: 16,
                        codegen: Codegen::Compiled,
                    })
                }
                (None, None) => None,
            };
            let message = source.map(|s| (s, direction.unwrap_or(Direction::Down)));
            anyhow::ensure!(
                message.is_some() || call.url.is_some(),
                "{at}: call '{}' names no message (shape = ... or message = ...) and no url",
                call.name
            );
            calls.push(MixCall {
                name: call.name,
                weight: call.weight,
                line,
                message,
                url: call.url,
                method: call.method,
                data: call.data,
                body_file: call.body_file.as_ref().map(resolve),
                headers: call.headers,
            });
        }
        Ok(MixFile {
            path: path.to_owned(),
            calls,
            seed,
        })
    }

    /// The calls' names and weights, for [`wirebench_load::Weights`].
    pub fn weights(&self, seed: u64) -> wirebench_load::Weights {
        let calls: Vec<(String, f64)> = self
            .calls
            .iter()
            .map(|c| (c.name.clone(), c.weight))
            .collect();
        wirebench_load::Weights::new(&calls, seed).expect("checked when read")
    }

    /// Every call's message, for `bench --mix` and `serve mix`: an error
    /// naming the line of a call that has none.
    pub fn messages(&self) -> anyhow::Result<Vec<(String, MessageSource, Direction)>> {
        self.calls
            .iter()
            .map(|call| {
                let (source, direction) = call.message.clone().with_context(|| {
                    format!(
                        "{} line {}: call '{}' has no message (shape = ... or message = ...): bench and serve send messages",
                        self.path.display(),
                        call.line,
                        call.name
                    )
                })?;
                Ok((call.name.clone(), source, direction))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<MixFile> {
        MixFile::parse(Path::new("orders.toml"), text)
    }

    #[test]
    fn a_mix_reads_with_defaults() {
        let mix = parse(
            "[[call]]\nname = \"GetOrder\"\nweight = 7\nshape = \"order\"\n\n[[call]]\nname = \"Create\"\nshape = \"tiny\"\ndirection = \"up\"\n",
        )
        .unwrap();
        assert_eq!(mix.calls.len(), 2);
        assert_eq!(mix.calls[1].weight, 1.0);
        assert_eq!(mix.calls[1].line, 6);
        assert_eq!(mix.calls[1].message.as_ref().unwrap().1, Direction::Up);
        assert_eq!(mix.messages().unwrap().len(), 2);
    }

    #[test]
    fn bad_calls_are_named_by_their_line() {
        let err = |text: &str| format!("{:#}", parse(text).unwrap_err());
        let zero = err(
            "[[call]]\nname = \"a\"\nshape = \"tiny\"\n\n[[call]]\nname = \"b\"\nweight = 0\nshape = \"tiny\"\n",
        );
        assert!(
            zero.contains("line 5") && zero.contains("positive"),
            "{zero}"
        );
        let twice = err(
            "[[call]]\nname = \"a\"\nshape = \"tiny\"\n[[call]]\nname = \"a\"\nshape = \"tiny\"\n",
        );
        assert!(
            twice.contains("line 4") && twice.contains("line 1"),
            "{twice}"
        );
        let shape = err("[[call]]\nname = \"a\"\nshape = \"huge\"\n");
        assert!(
            shape.contains("line 1") && shape.contains("unknown shape"),
            "{shape}"
        );
        let unknown = err("[[call]]\nname = \"a\"\nshap = \"tiny\"\n");
        assert!(unknown.contains("shap"), "{unknown}");
        assert!(err("seed = 1\n").contains("no [[call]]"));
    }
}
