//! `wirebench load`: drive any REST URL or gRPC target, ours or not.
//!
//! `http://HOST:PORT/PATH` is loaded over HTTP/1.1; every answer must be
//! 2xx, and where the URL names one of our workloads the body is checked by
//! its contract ([`wirebench_load::contract`]): `/payload?size_in_kb=N`
//! must be the seed's N KiB of data, `/aggregate` the pipeline's summary,
//! `/echo` what was sent. `grpc://HOST:PORT` with `--call` calls our
//! services with full checks, or any unary method through reflection or
//! `--proto`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use wirebench_load::client::connector::Identity;
use wirebench_load::contract::Job;
use wirebench_load::{Client, StopAt, Target, TargetKind, TlsClient, Trust};
use wirebench_probe::ProcessRole;
use wirebench_proto::vocab::{Stack, StackKind, Workload};
use wirebench_report::{Exporter, JsonExporter, RunResult, TableExporter};

use crate::args::LoadCmdArgs;

mod requests;

use crate::settings::{self, Defaults};
use crate::signals::Cancel;
use crate::trial::TrialSpec;
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
    if let Some(path) = args
        .load
        .json
        .as_deref()
        .filter(|p| *p != std::path::Path::new("-"))
    {
        crate::outputs::check_writable(path, false)?;
    }
    let runtime = crate::client_runtime(crate::default_threads())?;
    let parsed = runtime.block_on(parse_target(&args))?;
    let plan = settings::load_plan(&args.load, DEFAULTS, |senders| {
        parsed.stack.default_connections(senders)
    })?;
    let start = args.load.agent.start()?;
    crate::server_metrics::check_urls(&args.load.server_metrics)?;
    crate::provenance::check_open_files(u64::from(plan.connections()))?;
    crate::provenance::raise_open_files_limit();
    let settings = serde_json::json!({
        "command": "load",
        "url": args.url,
        "plan": plan,
        "thresholds": args.load.thresholds.iter().map(ToString::to_string).collect::<Vec<_>>(),
    });
    let placement = crate::placement::CpuPlacement::resolve(None, None, true)?;
    runtime.block_on(async {
        let cancel = Cancel::on_signals(Some("stopping; keeping what was measured so far"))?;
        println!("wirebench load {}", args.url);
        println!(
            "  model: {}; stop after {}; warm-up {}; timeout {}",
            plan.describe_model(),
            plan.stop(),
            humantime::format_duration(plan.warmup()),
            humantime::format_duration(plan.timeout())
        );
        println!(
            "  connections: {} ({})",
            plan.connections(),
            parsed.stack.wire_description()
        );
        println!("  check: {}", parsed.target.describe_check());
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
        let client = Arc::new(Client::new(&parsed.target, plan.connections()).await?);
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
        let probe = crate::trial::start_probe(&plan, &servers, placement.client_set());
        let watch = crate::server_metrics::watch(&args.load.server_metrics, plan.warmup());
        let mut progress =
            crate::progress::Reporter::new(&parsed.stack.name(), &plan, args.load.quiet);
        let outcome = wirebench_load::run_observed(&plan, Arc::clone(&client), cancel.cancelled(), |p| {
            progress.update(p)
        })
        .await;
        progress.finish();
        let probed = probe.stop();
        let server_metrics = match watch {
            Some(watch) => watch.finish().await,
            None => Vec::new(),
        };
        let spec = TrialSpec {
            stack: parsed.stack,
            workload: parsed.workload,
            size_kb: parsed.size_kb,
            message: parsed.variant.clone(),
            codegen: parsed.codegen.clone(),
            target: &parsed.target,
            plan: &plan,
            servers: None,
            repetition: 0,
            variant: parsed.variant.clone(),
            net: None,
            thresholds: &args.load.thresholds,
            agent,
            server_metrics,
            network_path: None,
            tls_version: client.tls_version(),
        };
        let mut result = RunResult::new(crate::provenance::run_info(settings));
        result.run.interrupted = outcome.interrupted;
        result.push_trial(crate::trial::assemble(spec, &outcome, probed, &placement));
        print!("{}", TableExporter.render_as(&result, &args.load.view.view()));
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
    let tls = scheme.ends_with('s') && scheme != "grpc" || scheme == "grpcs";
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    anyhow::ensure!(!authority.is_empty(), "'{}' has no host", args.url);
    let base = match scheme.trim_end_matches('s') {
        "http" => "http",
        "grpc" => "grpc",
        "tcp" => "tcp",
        _ => bail!("'{}': use http(s)://, grpc(s):// or tcp(s)://", args.url),
    };
    if let Some(stack) = args.stack {
        let wants = match stack.kind {
            _ if stack.is_grpc_web() || stack.is_rest() => "http",
            StackKind::Tcp => "tcp",
            _ => "grpc",
        };
        anyhow::ensure!(
            base == wants && stack.tls == tls,
            "--stack {stack} is reached at {wants}{}://HOST:PORT, not '{}'",
            if stack.tls { "s" } else { "" },
            args.url
        );
        return Ok(UrlParts {
            stack,
            authority,
            path,
            base,
        });
    }
    let kind = match base {
        "grpc" if args.grpc_json => StackKind::GrpcJson,
        "grpc" => StackKind::Grpc,
        "tcp" => StackKind::Tcp,
        _ if args.http2 => StackKind::RestH2,
        _ if accepts_protobuf(&args.headers) => StackKind::RestProto,
        _ => StackKind::Rest,
    };
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
