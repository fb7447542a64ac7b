//! `load --config FILE`: ghz's config file (JSON, or TOML by its
//! extension), so a team's existing ghz runs start here unchanged. Its keys
//! fill what the command line left out (ghz's rule: flags win). A key
//! wirebench cannot honour is refused by name, never ignored: a run that
//! silently drops `max-duration` or `lb-strategy` would measure something
//! else than the file says.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::{Deserialize, Deserializer};

use crate::args::LoadCmdArgs;

/// The keys of ghz's config that have a meaning here.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct GhzConfig {
    /// HOST:PORT.
    host: Option<String>,
    /// Plaintext: the target is grpc://, else grpcs://.
    insecure: Option<bool>,
    /// TLS without checking the certificate: -k.
    #[serde(rename = "skipTLS")]
    skip_tls: Option<bool>,
    call: Option<String>,
    proto: Option<PathBuf>,
    import_paths: Option<Vec<PathBuf>>,
    total: Option<u64>,
    concurrency: Option<u32>,
    connections: Option<u32>,
    rps: Option<f64>,
    #[serde(default, deserialize_with = "duration")]
    duration: Option<Duration>,
    #[serde(default, deserialize_with = "duration")]
    timeout: Option<Duration>,
    data: Option<serde_json::Value>,
    data_file: Option<PathBuf>,
    metadata: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(rename = "skipFirst")]
    skip_first: Option<u64>,
    cacert: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    authority: Option<String>,
    #[serde(default, deserialize_with = "duration")]
    stream_interval: Option<Duration>,
    output: Option<PathBuf>,
    format: Option<String>,
}

/// ghz writes durations as text ("10s", "500ms").
fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    humantime::parse_duration(&text)
        .map(Some)
        .map_err(|e| serde::de::Error::custom(format!("'{text}' is not a duration like 10s: {e}")))
}

/// `args` with the keys of the ghz config at `path` filled in where the
/// command line left them out. Paths in the file are relative to it.
pub fn apply(path: &Path, mut args: LoadCmdArgs) -> anyhow::Result<LoadCmdArgs> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config {}", path.display()))?;
    let toml = path.extension().is_some_and(|e| e == "toml");
    let config: GhzConfig = if toml {
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
    } else {
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e} (ghz's config keys wirebench takes: host, insecure, skipTLS, call, proto, import-paths, total, concurrency, connections, rps, duration, timeout, data, data-file, metadata, skipFirst, cacert, cert, key, authority, stream-interval, output, format)",
                path.display()
            )
        })?
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let relative = |p: PathBuf| if p.is_absolute() { p } else { dir.join(p) };
    if args.urls.is_empty() && args.targets.is_none() && args.mix.is_none() {
        let Some(host) = &config.host else {
            bail!(
                "{}: no host, and no URL on the command line",
                path.display()
            );
        };
        // ghz is TLS unless told `insecure`; the scheme says it here.
        let scheme = if config.insecure == Some(true) {
            "grpc"
        } else {
            "grpcs"
        };
        args.urls.push(format!("{scheme}://{host}"));
    }
    args.insecure |= config.skip_tls == Some(true);
    let load = &mut args.load;
    load.requests = load
        .requests
        .or(config.total.filter(|_| load.duration.is_none()));
    load.duration = load
        .duration
        .or(config.duration.filter(|_| load.requests.is_none()));
    load.concurrency = load.concurrency.or(config.concurrency);
    load.connections = load.connections.or(config.connections);
    load.rate = load.rate.or(config.rps);
    load.timeout = load.timeout.or(config.timeout);
    load.skip_first = load.skip_first.or(config.skip_first);
    args.call = args.call.or(config.call);
    args.proto = args.proto.or(config.proto.map(relative));
    if args.message.proto_path.is_empty() {
        args.message.proto_path = config
            .import_paths
            .unwrap_or_default()
            .into_iter()
            .map(relative)
            .collect();
    }
    if args.data.is_none() && args.data_from.is_none() && args.data_file.is_none() {
        args.data = config.data.map(|d| d.to_string());
        args.data_from = config.data_file.map(relative);
    }
    for (key, value) in config.metadata.unwrap_or_default() {
        let named = |h: &String| {
            h.split_once(':')
                .is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case(&key))
        };
        if !args.headers.iter().any(named) {
            let value = match value {
                serde_json::Value::String(text) => text,
                other => other.to_string(),
            };
            args.headers.push(format!("{key}: {value}"));
        }
    }
    args.cacert = args.cacert.or(config.cacert.map(relative));
    if args.cert.is_none() && args.key.is_none() {
        args.cert = config.cert.map(relative);
        args.key = config.key.map(relative);
    }
    args.authority = args.authority.or(config.authority);
    args.stream_interval = args.stream_interval.or(config.stream_interval);
    args.output = args.output.or(config.output.map(relative));
    if args.output_format.is_none()
        && let Some(format) = config.format
    {
        args.output_format = Some(
            format
                .parse()
                .map_err(|e| anyhow::anyhow!("{}: format '{format}': {e}", path.display()))?,
        );
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::args::{Cli, Command};

    fn load_args(argv: &[&str]) -> LoadCmdArgs {
        let cli = Cli::try_parse_from([&["wirebench", "load"], argv].concat()).unwrap();
        match cli.command {
            Command::Load(args) => *args,
            _ => unreachable!(),
        }
    }

    fn file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_ghz_json_config_fills_what_the_command_line_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let config = file(
            dir.path(),
            "ghz.json",
            r#"{"host": "127.0.0.1:50051", "insecure": true, "call": "helloworld.Greeter.SayHello",
                "proto": "greeter.proto", "total": 2000, "concurrency": 50, "timeout": "2s",
                "data": {"name": "Joe"}, "metadata": {"trace_id": "{{.RequestNumber}}", "x": 1},
                "skipFirst": 100}"#,
        );
        let args = apply(&config, load_args(&["-c", "4", "-H", "x: 2"])).unwrap();
        assert_eq!(args.urls, ["grpc://127.0.0.1:50051"]);
        assert_eq!(args.call.as_deref(), Some("helloworld.Greeter.SayHello"));
        assert_eq!(args.proto, Some(dir.path().join("greeter.proto")));
        assert_eq!(args.load.requests, Some(2000));
        assert_eq!(args.load.concurrency, Some(4), "the command line wins");
        assert_eq!(args.load.timeout, Some(Duration::from_secs(2)));
        assert_eq!(args.load.skip_first, Some(100));
        assert_eq!(args.data.as_deref(), Some(r#"{"name":"Joe"}"#));
        assert_eq!(args.headers, ["x: 2", "trace_id: {{.RequestNumber}}"]);
    }

    #[test]
    fn toml_by_its_extension_tls_by_default_and_unknown_keys_named() {
        let dir = tempfile::tempdir().unwrap();
        let config = file(
            dir.path(),
            "ghz.toml",
            "host = \"localhost:443\"\nskipTLS = true\nduration = \"10s\"\n",
        );
        let args = apply(&config, load_args(&["-n", "50"])).unwrap();
        assert_eq!(
            args.urls,
            ["grpcs://localhost:443"],
            "ghz is TLS unless insecure"
        );
        assert!(args.insecure);
        assert_eq!(args.load.requests, Some(50));
        assert_eq!(
            args.load.duration, None,
            "-n on the command line replaces the file's duration"
        );

        let config = file(
            dir.path(),
            "lb.json",
            r#"{"host": "h:1", "lb-strategy": "round_robin"}"#,
        );
        let err = apply(&config, load_args(&[])).unwrap_err().to_string();
        assert!(err.contains("lb-strategy"), "{err}");
        let config = file(dir.path(), "bad.json", r#"{"duration": "ten"}"#);
        let err = apply(&config, load_args(&[])).unwrap_err().to_string();
        assert!(err.contains("'ten' is not a duration"), "{err}");
    }
}
