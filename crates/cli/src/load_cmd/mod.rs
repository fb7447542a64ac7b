//! `wirebench load`: drive any REST URL or gRPC target, ours or not.
//!
//! `http://HOST:PORT/PATH` is loaded over HTTP/1.1; every answer must be
//! 2xx, and where the URL names one of our workloads the body is checked by
//! its contract ([`wirebench_load::contract`]): `/payload?size_in_kb=N`
//! must be the seed's N KiB of data, `/aggregate` the pipeline's summary,
//! `/echo` what was sent. `grpc://HOST:PORT` with `--call` calls our
//! services with full checks, or any unary method through reflection or
//! `--proto`. Several URLs, `--targets` or `--mix` ([`targets`]) load
//! several targets at once, each request picking one by weight, with
//! results per target and in total.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use wirebench_load::client::connector::Identity;
use wirebench_load::contract::Job;
use wirebench_load::request_log::{Logged, RequestLog};
use wirebench_load::{Client, Mixed, StopAt, Target, TargetKind, TlsClient, Trust};
use wirebench_probe::ProcessRole;
use wirebench_proto::vocab::{Family, Stack, UrlWishes, Workload};
use wirebench_report::{Exporter, JsonExporter, RunResult, TableExporter};

use crate::args::LoadCmdArgs;

mod ghz_config;
mod requests;
pub mod targets;

use crate::settings::{self, Defaults};
use crate::signals::Cancel;
use crate::trial::{CallSpec, Measured, TrialSpec, Window, measure};
use requests::{
    Parsed, accepts_protobuf, grpc_request, http_request, message_job, parse_headers, tcp_request,
};

/// ghz's and oha's default: 200 requests.
const DEFAULTS: Defaults = Defaults {
    stop: StopAt::Requests(200),
    warmup: std::time::Duration::ZERO,
};

/// A target and what it is, as the result names it.
pub struct ParsedTarget {
    pub target: Target,
    pub stack: Stack,
    pub workload: Workload,
    pub size_kb: Option<u64>,
    /// What else names the trial: the message and its direction.
    pub variant: Option<String>,
    /// The message's codegen: "compiled" or "dynamic".
    pub codegen: Option<String>,
}

pub fn load(args: LoadCmdArgs) -> anyhow::Result<ExitCode> {
    crate::provenance::warn_if_debug_build();
    let args = match &args.config {
        Some(path) => ghz_config::apply(&path.clone(), args)?,
        None => args,
    };
    if let Some(path) = args
        .load
        .json
        .as_deref()
        .filter(|p| *p != std::path::Path::new("-"))
    {
        crate::outputs::check_writable(path, false)?;
    }
    let runtime = crate::client_runtime(crate::default_threads())?;
    let (targets, seed) = runtime.block_on(targets::parse_targets(&args))?;
    let first = &targets[0].parsed;
    let plan = settings::load_plan(&args.load, DEFAULTS, |senders| {
        first.stack.default_connections(senders)
    })?;
    let weights = {
        let named: Vec<(String, f64)> =
            targets.iter().map(|t| (t.name.clone(), t.weight)).collect();
        wirebench_load::Weights::new(&named, seed)?
    };
    let start = args.load.agent.start()?;
    crate::server_metrics::check_urls(&args.load.server_metrics)?;
    let connections = u64::from(plan.connections()) * targets.len() as u64;
    crate::provenance::check_open_files(connections)?;
    crate::provenance::raise_open_files_limit();
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    let settings = serde_json::json!({
        "command": "load",
        "url": names.join(" "),
        "mix": args.mix.as_ref().or(args.targets.as_ref()).map(|p| p.display().to_string()),
        "plan": plan,
        "thresholds": args.load.thresholds.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    let placement = crate::placement::CpuPlacement::resolve(None, None, true)?;
    runtime.block_on(async {
        let cancel = Cancel::on_signals(Some("stopping; keeping what was measured so far"))?;
        println!("wirebench load {}", names.join(" "));
        println!(
            "  model: {}; stop after {}; warm-up {}; timeout {}",
            plan.describe_model(),
            plan.stop(),
            humantime::format_duration(plan.warmup()),
            humantime::format_duration(plan.timeout())
        );
        println!(
            "  connections: {}{} ({})",
            plan.connections(),
            if targets.len() > 1 { " per target" } else { "" },
            first.stack.wire_description()
        );
        if targets.len() == 1 {
            println!("  check: {}", first.target.describe_check());
        } else {
            for (i, target) in targets.iter().enumerate() {
                println!(
                    "  {} ({:.0}% of the requests): {}; check: {}",
                    target.name,
                    weights.share(i) * 100.0,
                    target.parsed.target.label(),
                    target.parsed.target.describe_check()
                );
            }
        }
        let shard = plan.shard();
        if !shard.is_whole() {
            println!(
                "  agent {} of {} (from 0): {} of the plan's senders, {} connections here, {} for all agents",
                shard.index,
                shard.count,
                plan.senders(),
                plan.connections(),
                plan.connections_total()
            );
        }
        let mut clients = Vec::new();
        for target in &targets {
            clients.push(Arc::new(Client::new(&target.parsed.target, plan.connections()).await?));
        }
        if !args.load.server_metrics.is_empty() {
            // Reachable before any load, not found wanting at the end.
            crate::server_metrics::scrape_all(&args.load.server_metrics).await?;
        }
        if let Some(at) = start {
            println!("  starting at {}", humantime::format_rfc3339_millis(at));
        }
        let lateness_ms = crate::agent::wait_for(start, &cancel).await;
        let agent = crate::agent::describe(shard, lateness_ms, crate::provenance::now_rfc3339());
        if let Some(late) = lateness_ms {
            println!("  started {late:.1} ms late");
        }
        let servers: Vec<(ProcessRole, u32)> = args
            .server_pids
            .iter()
            .map(|&pid| (ProcessRole::Server, pid))
            .collect();
        let watcher = crate::progress::Watch::new(
            &first.stack.name(),
            &plan,
            args.load.quiet,
            &args.load.thresholds,
            args.load.abort_after(),
        );
        let log = match &args.log_requests {
            Some(path) => Some(Arc::new(
                RequestLog::create(path, &first.stack.name(), plan.warmup(), args.log_requests_max)
                    .with_context(|| format!("cannot write the request log {}", path.display()))?,
            )),
            None => None,
        };
        let window = Window {
            plan: &plan,
            watcher,
            servers: &servers,
            client_cpus: placement.client_set(),
            metrics_urls: &args.load.server_metrics,
            cancel: &cancel,
        };
        let measured = match clients.as_slice() {
            [client] => {
                let name = first.target.label();
                drive(window, Arc::clone(client), log.as_ref(), &name).await
            }
            _ => {
                let mixed = Arc::new(Mixed::new(weights.clone(), clients.clone()));
                drive(window, mixed, log.as_ref(), "").await
            }
        };
        if let (Some(log), Some(path)) = (&log, &args.log_requests) {
            let written = log
                .finish()
                .with_context(|| format!("cannot write the request log {}", path.display()))?;
            println!(
                "request log: {} ({} lines{})",
                path.display(),
                written.lines,
                match written.not_logged {
                    0 => String::new(),
                    n => format!("; {n} more requests past --log-requests-max were not logged"),
                }
            );
        }
        let calls = if targets.len() > 1 {
            targets
                .iter()
                .enumerate()
                .map(|(i, t)| CallSpec {
                    name: t.name.clone(),
                    target: t.parsed.target.label(),
                    weight_share: weights.share(i),
                })
                .collect()
        } else {
            Vec::new()
        };
        let spec = TrialSpec {
            stack: first.stack,
            workload: first.workload,
            size_kb: first.size_kb,
            message: first.variant.clone(),
            codegen: first.codegen.clone(),
            target: &first.target,
            plan: &plan,
            servers: None,
            repetition: 0,
            variant: first.variant.clone(),
            net: None,
            thresholds: &args.load.thresholds,
            aborted: measured.aborted,
            agent,
            server_metrics: measured.server_metrics,
            network_path: None,
            profile: None,
            tls_version: clients[0].tls_version(),
            calls,
        };
        let mut result = RunResult::new(crate::provenance::run_info(settings));
        result.push_trial(crate::trial::assemble(
            spec,
            &measured.outcome,
            measured.probed,
            &placement,
        ));
        let view = args.load.view.view();
        match (&args.output_format, &args.output) {
            // ghz's -O without -o: the format on standard output.
            (Some(format), None) => print!("{}", format.exporter().render_as(&result, &view)),
            _ => print!("{}", TableExporter.render_as(&result, &view)),
        }
        if let Some(path) = &args.output {
            let format = args.output_format.unwrap_or_else(|| format_of(path));
            let text = format.exporter().render_as(&result, &view);
            let kept = crate::outputs::write_or_keep(path, text.as_bytes())?;
            println!("{format}: {}", kept.display());
        }
        if args.load.json.as_deref() == Some(std::path::Path::new("-")) {
            // One line, so that a log holding it is read by `merge -`.
            println!("{}", serde_json::to_string(&result)?);
        } else if let Some(path) = &args.load.json {
            let kept = crate::outputs::write_or_keep(path, JsonExporter.render(&result).as_bytes())?;
            println!("result: {}", kept.display());
        }
        Ok(crate::trial::exit_code(&result))
    })
}

/// The peers' short flags, read by the target's scheme: `-m` is hey's
/// HTTP method on http:// URLs and ghz's metadata (a JSON object) on
/// grpc:// ones; `-D` hey's body file or ghz's request file. ghz's
/// `--insecure` (plaintext) is refused where the scheme says it already.
fn peer_flags(args: &LoadCmdArgs) -> anyhow::Result<LoadCmdArgs> {
    let mut args = args.clone();
    let Some((scheme, _)) = args.url.split_once("://") else {
        if args.insecure {
            bail!(
                "'{}' has no scheme; ghz's --insecure (plaintext) is said by the scheme here: grpc://{} is plaintext, grpcs://{} is TLS (add -k to accept any certificate)",
                args.url,
                args.url,
                args.url
            );
        }
        bail!(
            "'{}': use http(s)://HOST:PORT/PATH, grpc(s)://HOST:PORT or tcp(s)://HOST:PORT (ghz's HOST:PORT is grpc://HOST:PORT)",
            args.url
        );
    };
    let grpc = scheme.starts_with("grpc");
    if args.insecure && matches!(scheme, "grpc" | "http" | "tcp") {
        bail!(
            "--insecure accepts any TLS certificate, and {scheme}:// has no TLS; ghz's --insecure (plaintext) is said by the scheme here: grpc:// is plaintext, grpcs:// is TLS"
        );
    }
    if let Some(m) = args.m.take() {
        if grpc {
            let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&m)
                .with_context(|| {
                    format!("-m on a grpc:// target is ghz's metadata, a JSON object like '{{\"key\":\"value\"}}', not '{m}'")
                })?;
            for (key, value) in object {
                let value = match value {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                args.headers.push(format!("{key}: {value}"));
            }
        } else {
            anyhow::ensure!(
                args.method.is_none(),
                "-m and --method both name the HTTP method: give one"
            );
            args.method = Some(m);
        }
    }
    if let Some(file) = args.data_from.take() {
        if grpc {
            anyhow::ensure!(
                args.data.is_none(),
                "-D and -d both give the request: give one"
            );
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            args.data = Some(text);
        } else {
            anyhow::ensure!(
                args.body_file.is_none(),
                "-D and --body-file both give the body: give one"
            );
            args.body_file = Some(file);
        }
    }
    Ok(args)
}

/// The format a file's extension names (.md, .csv, .html, .prom, .lp, .txt),
/// JSON otherwise.
fn format_of(path: &std::path::Path) -> wirebench_report::Format {
    use wirebench_report::Format;
    match path.extension().and_then(|e| e.to_str()) {
        Some("md") => Format::Markdown,
        Some("csv") => Format::Csv,
        Some("html") => Format::Html,
        Some("prom") => Format::Prometheus,
        Some("lp") => Format::Influx,
        Some("txt") => Format::Table,
        _ => Format::Json,
    }
}

/// Measures `window` with `client`, each request logged when `log` is
/// given (`name` names the requests of a client without a mix).
async fn drive<C: wirebench_load::engine::Call>(
    window: Window<'_>,
    client: Arc<C>,
    log: Option<&Arc<RequestLog>>,
    name: &str,
) -> Measured {
    match log {
        Some(log) => measure(window, Arc::new(Logged::new(client, Arc::clone(log), name))).await,
        None => measure(window, client).await,
    }
}

/// What the URL and flags of `load` name: the stack, the URL's
/// HOST:PORT and its path.
pub struct UrlParts<'a> {
    pub stack: Stack,
    pub authority: &'a str,
    pub path: &'a str,
    /// "http", "grpc" or "tcp".
    pub base: &'static str,
}

pub fn url_parts(args: &LoadCmdArgs) -> anyhow::Result<UrlParts<'_>> {
    let (scheme, rest) = args.url.split_once("://").with_context(|| {
        format!(
            "'{}': use http(s)://HOST:PORT/PATH, grpc(s)://HOST:PORT or tcp(s)://HOST:PORT",
            args.url
        )
    })?;
    let (family, tls) = Family::of_scheme(scheme)
        .with_context(|| format!("'{}': use http(s)://, grpc(s):// or tcp(s)://", args.url))?;
    let base = family.scheme();
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    anyhow::ensure!(!authority.is_empty(), "'{}' has no host", args.url);
    if let Some(stack) = args.stack {
        anyhow::ensure!(
            scheme == stack.scheme(),
            "--stack {stack} is reached at {}://HOST:PORT, not '{}'",
            stack.scheme(),
            args.url
        );
        return Ok(UrlParts {
            stack,
            authority,
            path,
            base,
        });
    }
    let kind = family.kind_for(UrlWishes {
        http2: args.http2,
        protobuf: accepts_protobuf(&args.headers),
        grpc_json: args.grpc_json,
    });
    Ok(UrlParts {
        stack: if tls {
            Stack::tls(kind)
        } else {
            Stack::plain(kind)
        },
        authority,
        path,
        base,
    })
}

pub async fn parse_target(args: &LoadCmdArgs) -> anyhow::Result<ParsedTarget> {
    let args = &peer_flags(args)?;
    let UrlParts {
        stack,
        authority,
        path,
        base,
    } = url_parts(args)?;
    let tls = stack.tls;
    let tls_client = if tls {
        let trust = match (&args.cacert, args.insecure) {
            (Some(path), _) => Trust::Pem(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            ),
            (None, true) => Trust::Anything,
            (None, false) => {
                bail!("TLS needs --cacert FILE (the server's certificate) or -k/--insecure")
            }
        };
        let host = authority
            .rsplit_once(':')
            .map_or(authority, |(h, _)| h)
            .trim_matches(['[', ']']);
        let identity = match (&args.cert, &args.key) {
            (Some(cert), Some(key)) => {
                let read = |path: &PathBuf| {
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))
                };
                Some(Identity {
                    cert_pem: read(cert)?,
                    key_pem: read(key)?,
                })
            }
            _ => None,
        };
        Some(
            TlsClient::with_identity(host, stack.alpn(), &trust, identity.as_ref())
                .map_err(anyhow::Error::msg)?,
        )
    } else {
        anyhow::ensure!(
            args.cert.is_none(),
            "--cert and --key are for TLS targets (https://, grpcs://, tcps://)"
        );
        None
    };
    let message = message_job(args, path)?;
    let variant = match &message {
        Some(Job::Message(job)) => Some(format!("{} {}", job.source.label(), job.direction)),
        _ => None,
    };
    let codegen = message.as_ref().and_then(Job::codegen);
    let parsed = match (message, base) {
        (Some(job), _) => Parsed::Job(job),
        (None, "grpc") => grpc_request(args, authority, stack).await?,
        (None, "tcp") => Parsed::Job(tcp_request(args, path, stack)?),
        // A stack named by --stack (gRPC-Web, HTTP/3, compressed) gets
        // the contract's requests, as tcp:// does.
        (None, "http") if args.stack.is_some() => Parsed::Job(tcp_request(args, path, stack)?),
        (None, _) => {
            let (kind, workload, size_kb) = http_request(args, path, stack)?;
            Parsed::Request(Box::new(kind), workload, size_kb)
        }
    };
    let (mut kind, workload, size_kb) = match parsed {
        Parsed::Job(job) => (job.request(stack)?, job.workload(), job.size_kb()),
        Parsed::Request(kind, workload, size_kb) => (*kind, workload, size_kb),
    };
    let streams = args.stream_messages.is_some() || args.stream_interval.is_some();
    if let TargetKind::Http(http) = &mut kind
        && args.http2
    {
        // gRPC-Web over HTTP/2 (h2c, or h2 by ALPN over TLS).
        http.version = wirebench_load::client::HttpVersion::Http2;
    }
    if args.disable_keepalive {
        match &mut kind {
            // The server closes after answering; the client then opens a
            // new connection for the next request.
            TargetKind::Http(http)
                if http.version == wirebench_load::client::HttpVersion::Http1 =>
            {
                http.headers.insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
            }
            _ => bail!(
                "--disable-keepalive is for HTTP/1.1 targets: HTTP/2, HTTP/3 and gRPC multiplex their requests on one connection (--connections sets how many)"
            ),
        }
    }
    match &mut kind {
        TargetKind::Grpc { streaming, .. } if streaming.is_none() && streams => {
            bail!(
                "--stream-messages and --stream-interval are for streaming methods; {} is unary",
                args.call
                    .as_deref()
                    .unwrap_or(wirebench_load::contract::GET_LARGE_PAYLOAD)
            )
        }
        TargetKind::Grpc {
            metadata,
            authority,
            ..
        } => {
            *metadata = parse_headers(&args.headers)?;
            authority.clone_from(&args.authority);
        }
        _ if streams => bail!("--stream-messages and --stream-interval are for grpc:// targets"),
        _ if args.authority.is_some() => bail!("--authority is for grpc:// targets"),
        TargetKind::Tcp(_) if !args.headers.is_empty() => {
            bail!("-H is for http:// (headers) and grpc:// (metadata) targets")
        }
        _ => {}
    }
    Ok(ParsedTarget {
        target: Target {
            authority: authority.to_owned(),
            tls: tls_client,
            kind,
        },
        stack,
        workload,
        size_kb,
        variant,
        codegen,
    })
}
