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
use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use wirebench_load::client::connector::Identity;
use wirebench_load::client::dynamic;
use wirebench_load::contract::MessageJob;
use wirebench_load::contract::{self, Job};
use wirebench_load::verify::BodyCheck;
use wirebench_load::{
    Client, Exchange, Exchanges, HttpTarget, StopAt, Target, TargetKind, TlsClient, Trust,
};
use wirebench_proto::PROTOBUF_MEDIA_TYPE as PROTOBUF;
use wirebench_proto::message::MessageSource;
use wirebench_proto::pipeline::AggregateRequest;
use wirebench_proto::vocab::{Stack, StackKind, Workload};
use wirebench_report::{Exporter, JsonExporter, RunResult, TableExporter};

use crate::args::LoadCmdArgs;
use crate::settings::{self, Defaults};
use crate::signals::Cancel;
use crate::trial::TrialSpec;

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
}

pub fn load(args: LoadCmdArgs) -> anyhow::Result<ExitCode> {
    crate::provenance::warn_if_debug_build();
    let runtime = crate::client_runtime(crate::default_threads())?;
    let parsed = runtime.block_on(parse_target(&args))?;
    let plan = settings::load_plan(&args.load, DEFAULTS, |senders| {
        parsed.stack.default_connections(senders)
    })?;
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
            plan.model(),
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
        let client = Arc::new(Client::new(&parsed.target, plan.connections()).await?);
        let probe = crate::trial::start_probe(&plan, &[], placement.client_set());
        let mut progress =
            crate::progress::Reporter::new(&parsed.stack.name(), &plan, args.load.quiet);
        let outcome =
            wirebench_load::run_observed(&plan, client, cancel.cancelled(), |p| progress.update(p))
                .await;
        progress.finish();
        let probed = probe.stop();
        let spec = TrialSpec {
            stack: parsed.stack,
            workload: parsed.workload,
            size_kb: parsed.size_kb,
            target: &parsed.target,
            plan: &plan,
            servers: None,
            repetition: 0,
            variant: parsed.variant.clone(),
            net: None,
            thresholds: &args.load.thresholds,
        };
        let mut result = RunResult::new(crate::provenance::run_info(settings));
        result.run.interrupted = outcome.interrupted;
        result.push_trial(crate::trial::assemble(spec, &outcome, probed, &placement));
        print!("{}", TableExporter.render(&result));
        if let Some(path) = &args.load.json {
            wirebench_report::write_atomically(path, JsonExporter.render(&result).as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("result: {}", path.display());
        }
        Ok(crate::trial::exit_code(&result))
    })
}

pub async fn parse_target(args: &LoadCmdArgs) -> anyhow::Result<ParsedTarget> {
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
    let base = scheme.trim_end_matches('s');
    let base = if base == "http" || base == "grpc" || base == "tcp" {
        base
    } else {
        bail!("'{}': use http(s)://, grpc(s):// or tcp(s)://", args.url)
    };
    let kind = match base {
        "grpc" if args.grpc_json => StackKind::GrpcJson,
        "grpc" => StackKind::Grpc,
        "tcp" => StackKind::Tcp,
        _ if args.http2 => StackKind::RestH2,
        _ if accepts_protobuf(&args.headers) => StackKind::RestProto,
        _ => StackKind::Rest,
    };
    let stack = Stack { kind, tls };
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
    let parsed = match (message, base) {
        (Some(job), _) => Parsed::Job(job),
        (None, "grpc") => grpc_request(args, authority, stack).await?,
        (None, "tcp") => Parsed::Job(tcp_request(args, path, stack)?),
        (None, _) => {
            let (kind, workload, size_kb) = http_request(args, path, stack)?;
            Parsed::Request(Box::new(kind), workload, size_kb)
        }
    };
    let (mut kind, workload, size_kb) = match parsed {
        Parsed::Job(job) => (job.request(stack)?, job.workload(), job.size_kb()),
        Parsed::Request(kind, workload, size_kb) => (*kind, workload, size_kb),
    };
    match &mut kind {
        TargetKind::Grpc {
            metadata,
            authority,
            ..
        } => {
            *metadata = parse_headers(&args.headers)?;
            authority.clone_from(&args.authority);
        }
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
    })
}

/// The message workload, when --shape or --message names a message: the
/// contract's requests for `serve message` (or any server of
/// wirebench.message.MessageService), whatever the stack.
fn message_job(args: &LoadCmdArgs, path: &str) -> anyhow::Result<Option<Job>> {
    let source = match (args.shape, &args.message.message) {
        (Some(shape), _) => MessageSource::Shape {
            shape,
            seed: args.seed,
            items: args.items.unwrap_or(shape.default_items()),
            dynamic: args.message.dynamic,
        },
        (None, Some(_)) => args
            .message
            .source(
                args.proto.as_ref(),
                args.data_file.as_ref(),
                args.seed,
                args.items,
            )
            .context("--message needs --proto")?,
        (None, None) => return Ok(None),
    };
    if args.call.is_some() || args.data.is_some() || args.body_file.is_some() {
        bail!("--shape and --message load the message service: not with --call, -d or --body-file");
    }
    if !matches!(path, "" | "/" | "/message" | "/message/echo") {
        bail!("--shape and --message load /message (the direction picks the route), not '{path}'");
    }
    let job = MessageJob::load(source, args.direction)?;
    Ok(Some(Job::Message(Arc::new(job))))
}

/// The lines of a `--data-file`, blank ones skipped; an error if none is
/// left.
fn data_lines(path: &PathBuf) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let lines: Vec<String> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    anyhow::ensure!(
        !lines.is_empty(),
        "{} has no requests: it is empty",
        path.display()
    );
    Ok(lines)
}

fn accepts_protobuf(headers: &[String]) -> bool {
    headers.iter().any(|h| {
        h.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("accept") && value.trim().starts_with(PROTOBUF)
        })
    })
}

fn http_request(
    args: &LoadCmdArgs,
    path: &str,
    stack: Stack,
) -> anyhow::Result<(TargetKind, Workload, Option<u64>)> {
    if args.call.is_some() || args.data.is_some() || args.proto.is_some() {
        bail!(
            "--call, -d and --proto are for grpc:// targets (use --body-file or --data-file for HTTP)"
        );
    }
    let path = if path.is_empty() { "/" } else { path };
    let path: PathAndQuery = path
        .parse()
        .with_context(|| format!("'{path}' is not a path"))?;
    let bodies = match (&args.body_file, &args.data_file) {
        (Some(file), _) => vec![read_body(file)?],
        (None, Some(file)) => data_lines(file)?.into_iter().map(Bytes::from).collect(),
        (None, None) => vec![Bytes::new()],
    };
    let method = match &args.method {
        Some(m) => Method::from_bytes(m.to_uppercase().as_bytes())
            .with_context(|| format!("'{m}' is not an HTTP method"))?,
        None if args.body_file.is_some() || args.data_file.is_some() => Method::POST,
        None => Method::GET,
    };
    let job = match path.path() {
        "/payload" => Some(Job::Payload {
            size_kb: query_number(&path, "size_in_kb").unwrap_or(1),
        }),
        "/aggregate" => Some(Job::Pipeline {
            records: query_number(&path, "records").unwrap_or(0),
        }),
        _ => None,
    };
    let echo = job.is_none() && path.path() == "/echo";
    let (workload, size_kb) = match &job {
        Some(job) => (job.workload(), job.size_kb()),
        None if echo => (Workload::Echo, None),
        None => (Workload::External, None),
    };
    let exchanges = bodies
        .into_iter()
        .map(|body| {
            let check = match &job {
                Some(job) => job.check(stack)?,
                // Our echo answers the very bytes it was sent (JSON as we
                // write it).
                None if echo && !body.is_empty() => BodyCheck::Exact(body.clone()),
                None => BodyCheck::Any,
            };
            Ok(Exchange {
                path: path.clone(),
                body,
                check,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((
        TargetKind::Http(HttpTarget {
            http2: stack.kind == StackKind::RestH2,
            method,
            headers: parse_headers(&args.headers)?,
            exchanges: Exchanges::new(exchanges).expect("at least one body"),
        }),
        workload,
        size_kb,
    ))
}

/// The TCP ceiling: `tcp://HOST:PORT` asks the payload service for
/// --size-kb KiB; `tcp://HOST:PORT/aggregate?records=N` asks the pipeline's
/// aggregator (the path names the request, as the REST routes do).
fn tcp_request(args: &LoadCmdArgs, path: &str, stack: Stack) -> anyhow::Result<Job> {
    let path: PathAndQuery = if path.is_empty() { "/" } else { path }
        .parse()
        .with_context(|| format!("'{path}' is not a path"))?;
    Ok(match path.path() {
        "/" | "/payload" => Job::Payload {
            size_kb: query_number(&path, "size_in_kb").unwrap_or(args.size_kb),
        },
        "/aggregate" => Job::Pipeline {
            records: query_number(&path, "records").unwrap_or(0),
        },
        other => bail!("a {stack} target asks for /payload or /aggregate, not '{other}'"),
    })
}

/// Our services get their contract's calls and full checks; any other
/// method is resolved through reflection or --proto, as ghz does.
async fn grpc_request(args: &LoadCmdArgs, authority: &str, stack: Stack) -> anyhow::Result<Parsed> {
    let call_name = args.call.as_deref().unwrap_or(contract::GET_LARGE_PAYLOAD);
    let (service, method) = dynamic::split_call(call_name)?;
    let known = format!("/{service}/{method}");
    let plain = args.data.is_none() && args.data_file.is_none();
    let job = match known.as_str() {
        contract::GET_LARGE_PAYLOAD if plain => Some(Job::Payload {
            size_kb: args.size_kb,
        }),
        contract::ECHO if plain => Some(Job::Echo {
            size_kb: args.size_kb,
        }),
        contract::AGGREGATE if args.data_file.is_none() => {
            let data = args.data.as_deref().unwrap_or("{}");
            let request: AggregateRequest = serde_json::from_str(data)
                .with_context(|| format!("-d is not an AggregateRequest: {data}"))?;
            Some(Job::Pipeline {
                records: request.records,
            })
        }
        _ => None,
    };
    if let Some(job) = job {
        return Ok(Parsed::Job(job));
    }
    anyhow::ensure!(
        stack.kind != StackKind::GrpcJson,
        "the JSON codec (--grpc-json) knows wirebench's own services only, not --call {call_name}"
    );
    let pool = match &args.proto {
        Some(path) => dynamic::pool_from_proto(path)?,
        None => {
            dynamic::pool_from_reflection(wirebench_load::client::channel(authority)?, &service)
                .await?
        }
    };
    let requests = match &args.data_file {
        Some(file) => data_lines(file)?,
        None => vec![args.data.clone().unwrap_or_else(|| "{}".to_owned())],
    };
    let exchanges = requests
        .iter()
        .enumerate()
        .map(|(i, data)| {
            let call = dynamic::resolve(&pool, &service, &method, data);
            let call = match &args.data_file {
                Some(file) => call.with_context(|| format!("{} line {}", file.display(), i + 1)),
                None => call.map_err(anyhow::Error::from),
            }?;
            Ok(Exchange {
                path: call.path,
                body: call.request,
                check: BodyCheck::Decodes(call.output),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Parsed::Request(
        Box::new(TargetKind::Grpc {
            exchanges: Exchanges::new(exchanges).expect("at least one request"),
            json: false,
            metadata: HeaderMap::new(),
            authority: None,
        }),
        Workload::External,
        None,
    ))
}

/// What a URL asks for: one of our workloads, or any request.
enum Parsed {
    Job(Job),
    /// Boxed: a target is large beside a job.
    Request(Box<TargetKind>, Workload, Option<u64>),
}

fn query_number<T: std::str::FromStr>(path: &PathAndQuery, name: &str) -> Option<T> {
    path.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?
        .parse()
        .ok()
}

fn read_body(path: &PathBuf) -> anyhow::Result<Bytes> {
    Ok(Bytes::from(std::fs::read(path).with_context(|| {
        format!("cannot read {}", path.display())
    })?))
}

fn parse_headers(raw: &[String]) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for line in raw {
        let (name, value) = line
            .split_once(':')
            .with_context(|| format!("header '{line}' is not 'Name: value'"))?;
        headers.append(
            HeaderName::from_bytes(name.trim().as_bytes())
                .with_context(|| format!("'{name}' is not a header name"))?,
            HeaderValue::from_str(value.trim())
                .with_context(|| format!("'{value}' is not a header value"))?,
        );
    }
    Ok(headers)
}
