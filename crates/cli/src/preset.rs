//! Presets: every seed experiment as a TOML file in `scenarios/`, built into
//! the binary so `bench --preset seed-000` works from anywhere; a path to
//! one's own TOML file works too. Flags given on the command line win over
//! the preset, which wins over the defaults.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use wirebench_proto::vocab::Stack;

use crate::args::LoadArgs;

/// (name, TOML text) of every built-in preset.
pub const BUILT_IN: &[(&str, &str)] = &[
    ("seed-000", include_str!("../../../scenarios/seed-000.toml")),
    (
        "seed-000-120s",
        include_str!("../../../scenarios/seed-000-120s.toml"),
    ),
    (
        "seed-000-10k-users",
        include_str!("../../../scenarios/seed-000-10k-users.toml"),
    ),
    (
        "seed-000-workers",
        include_str!("../../../scenarios/seed-000-workers.toml"),
    ),
    ("seed-002", include_str!("../../../scenarios/seed-002.toml")),
    ("shapes", include_str!("../../../scenarios/shapes.toml")),
    ("stacks", include_str!("../../../scenarios/stacks.toml")),
];

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    pub description: Option<String>,
    pub workload: Option<crate::args::ServiceKind>,
    pub records: Option<u32>,
    pub hop: Option<Vec<wirebench_server::pipeline::HopMode>>,
    pub shape: Option<Vec<wirebench_proto::message::Shape>>,
    pub direction: Option<Vec<wirebench_proto::message::Direction>>,
    pub items: Option<u32>,
    pub seed: Option<u64>,
    pub trials: Option<u32>,
    pub net: Option<String>,
    pub stacks: Option<Vec<Stack>>,
    pub size_kb: Option<u64>,
    pub sizes: Option<Vec<u64>>,
    pub workers: Option<Vec<usize>>,
    pub server_processes: Option<Vec<usize>>,
    pub max_size_kb: Option<u64>,
    pub users: Option<u32>,
    pub spawn_rate: Option<f64>,
    #[serde(default, with = "humantime_serde_opt")]
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
    pub concurrency: Option<u32>,
    pub rate: Option<f64>,
    pub connections: Option<u32>,
    #[serde(default, with = "humantime_serde_opt")]
    pub warmup: Option<Duration>,
    #[serde(default, with = "humantime_serde_opt")]
    pub timeout: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("no preset named '{0}'; --list-presets shows them, or give a path to a .toml file")]
    Unknown(String),
    #[error("cannot read preset file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("preset {name} is not valid: {source}")]
    Parse {
        name: String,
        source: Box<toml::de::Error>,
    },
}

impl Preset {
    /// A built-in preset by name, or a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Preset, PresetError> {
        let text = match BUILT_IN.iter().find(|(name, _)| *name == name_or_path) {
            Some((_, text)) => (*text).to_owned(),
            None if name_or_path.ends_with(".toml") || Path::new(name_or_path).exists() => {
                std::fs::read_to_string(name_or_path).map_err(|source| PresetError::Read {
                    path: name_or_path.to_owned(),
                    source,
                })?
            }
            None => return Err(PresetError::Unknown(name_or_path.to_owned())),
        };
        Self::parse(name_or_path, &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<Preset, PresetError> {
        toml::from_str(text).map_err(|source| PresetError::Parse {
            name: name.to_owned(),
            source: Box::new(source),
        })
    }

    /// Fills the load flags the command line left out.
    pub fn fill(&self, args: LoadArgs) -> LoadArgs {
        LoadArgs {
            users: args.users.or(self.users),
            spawn_rate: args.spawn_rate.or(self.spawn_rate),
            // A count given on the command line replaces a preset's duration
            // (and the reverse): they are one choice, "when to stop".
            duration: args
                .duration
                .or(self.duration.filter(|_| args.requests.is_none())),
            requests: args
                .requests
                .or(self.requests.filter(|_| args.duration.is_none())),
            concurrency: args.concurrency.or(self.concurrency),
            rate: args.rate.or(self.rate),
            connections: args.connections.or(self.connections),
            warmup: args.warmup.or(self.warmup),
            skip_first: args.skip_first,
            timeout: args.timeout.or(self.timeout),
            json: args.json,
            quiet: args.quiet,
            thresholds: args.thresholds,
            abort_on_fail: args.abort_on_fail,
            abort_delay: args.abort_delay,
            rate_schedule: args.rate_schedule,
            concurrency_schedule: args.concurrency_schedule,
            agent: args.agent,
            server_metrics: args.server_metrics,
            view: args.view,
        }
    }
}

/// `Option<Duration>` from humantime text ("30s", "2m").
mod humantime_serde_opt {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|text| humantime::parse_duration(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_preset_parses_and_describes_itself() {
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios"))
            .unwrap()
            .count();
        assert_eq!(
            files,
            BUILT_IN.len(),
            "every file in scenarios/ is built in"
        );
        for (name, text) in BUILT_IN {
            let preset = Preset::parse(name, text).unwrap();
            assert!(preset.description.is_some(), "{name} has no description");
            assert!(
                text.contains("# Seed"),
                "{name} does not say which seed table it reproduces"
            );
        }
    }

    #[test]
    fn command_line_wins_and_stop_choices_do_not_mix() {
        let preset = Preset::load("seed-000").unwrap();
        assert_eq!(preset.size_kb, Some(512));
        let filled = preset.fill(LoadArgs {
            users: Some(5),
            requests: Some(100),
            ..LoadArgs::default()
        });
        assert_eq!(filled.users, Some(5));
        assert_eq!(filled.spawn_rate, Some(10.0));
        assert_eq!(filled.requests, Some(100));
        assert_eq!(filled.duration, None);
        assert!(matches!(Preset::load("nope"), Err(PresetError::Unknown(_))));
        assert!(Preset::parse("bad", "users = 'many'").is_err());
        assert!(Preset::parse("bad", "colour = 1").is_err());
    }
}
