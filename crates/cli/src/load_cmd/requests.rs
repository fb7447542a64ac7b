//! What `load` sends, from its flags: the request of an http://, grpc://
//! or tcp:// URL (our contract's where the URL names one of our
//! workloads), the message workload's, a data file's lines, templates.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use wirebench_load::client::Vary;
use wirebench_load::client::dynamic;
use wirebench_load::contract::MessageJob;
use wirebench_load::contract::{self, Job};
use wirebench_load::template::Template;
use wirebench_load::verify::BodyCheck;
use wirebench_load::{Exchange, Exchanges, HttpTarget, Streaming, TargetKind};
use wirebench_proto::PROTOBUF_MEDIA_TYPE as PROTOBUF;
use wirebench_proto::message::MessageSource;
use wirebench_proto::pipeline::AggregateRequest;
use wirebench_proto::vocab::{Stack, Workload};

use crate::args::LoadCmdArgs;

/// The message workload, when --shape or --message names a message: the
/// contract's requests for `serve message` (or any server of
/// wirebench.message.MessageService), whatever the stack.
pub(super) fn message_job(args: &LoadCmdArgs, path: &str) -> anyhow::Result<Option<Job>> {
    let codegen = args.message.one_codegen()?;
    let source = match (args.shape, &args.message.message) {
        (Some(shape), _) => MessageSource::shape(shape, args.seed, args.items, codegen),
        (None, Some(_)) => args
            .message
            .source(
                args.proto.as_ref(),
                args.data_file.as_ref(),
                args.seed,
                args.items,
            )
            .context("--message needs --proto")?
            .with_codegen(codegen),
        (None, None) => return Ok(None),
    };
    let source = crate::args::available(&source)?;
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
pub(super) fn data_lines(path: &PathBuf) -> anyhow::Result<Vec<String>> {
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

pub(super) fn accepts_protobuf(headers: &[String]) -> bool {
    headers.iter().any(|h| {
        h.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("accept") && value.trim().starts_with(PROTOBUF)
        })
    })
}

pub(super) fn http_request(
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
    // A templated path is checked, and its job recognised, by its first
    // rendering.
    let path_template = Template::compile(path.as_bytes())?;
    let path = match &path_template {
        Some(template) => template.render_string(0),
        None => path.to_owned(),
    };
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
        // A templated URL asks something else each time.
        _ if path_template.is_some() => None,
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
            let body_template = Template::compile(&body)?;
            let vary = (path_template.is_some() || body_template.is_some()).then(|| {
                Arc::new(Vary {
                    path: path_template.clone(),
                    body: body_template,
                    grpc_input: None,
                })
            });
            let check = match &job {
                Some(job) => job.check(stack)?,
                // Our echo answers what it was sent: JSON as it writes
                // JSON (compared by value), other bodies byte for byte. A
                // templated body is known only when sent.
                None if echo && !body.is_empty() && vary.is_none() => {
                    if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() {
                        BodyCheck::SameJson(body.clone())
                    } else {
                        BodyCheck::Exact(body.clone())
                    }
                }
                None => BodyCheck::Any,
            };
            Ok(Exchange {
                path: path.clone(),
                body,
                check,
                vary,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut headers = parse_headers(&args.headers)?;
    // A JSON body says so, unless -H said otherwise (oha and hey send none
    // or text/html, and most JSON APIs answer those with 415).
    let json_body = exchanges.iter().all(|e| {
        !e.body.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(&e.body).is_ok()
    });
    if json_body && !headers.contains_key(http::header::CONTENT_TYPE) {
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    Ok((
        TargetKind::Http(HttpTarget {
            version: stack
                .http_version()
                .unwrap_or(wirebench_load::client::HttpVersion::Http1),
            method,
            headers,
            exchanges: Exchanges::new(exchanges).expect("at least one body"),
        }),
        workload,
        size_kb,
    ))
}

/// The TCP ceiling: `tcp://HOST:PORT` asks the payload service for
/// --size-kb KiB; `tcp://HOST:PORT/aggregate?records=N` asks the pipeline's
/// aggregator (the path names the request, as the REST routes do).
pub(super) fn tcp_request(args: &LoadCmdArgs, path: &str, stack: Stack) -> anyhow::Result<Job> {
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
pub(super) async fn grpc_request(
    args: &LoadCmdArgs,
    authority: &str,
    stack: Stack,
) -> anyhow::Result<Parsed> {
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
        !(stack.is_grpc() && stack.speaks_json()),
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
    // How the method streams (every line calls the same method).
    let mut streams = (false, false);
    let exchanges = requests
        .iter()
        .enumerate()
        .map(|(i, data)| {
            // A template is checked by its first rendering, then rendered
            // and encoded anew for every call.
            let template = Template::compile(data.as_bytes())?;
            let sample = template.as_ref().map(|t| t.render_string(0));
            let call =
                dynamic::resolve(&pool, &service, &method, sample.as_deref().unwrap_or(data));
            let call = match &args.data_file {
                Some(file) => call.with_context(|| format!("{} line {}", file.display(), i + 1)),
                None => call.map_err(anyhow::Error::from),
            }?;
            streams = (call.client_streaming, call.server_streaming);
            Ok(Exchange {
                path: call.path,
                body: call.request,
                check: BodyCheck::Decodes(call.output),
                vary: template.map(|template| {
                    Arc::new(Vary {
                        path: None,
                        body: Some(template),
                        grpc_input: Some(call.input),
                    })
                }),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Parsed::Request(
        Box::new(TargetKind::Grpc {
            exchanges: Exchanges::new(exchanges).expect("at least one request"),
            json: false,
            metadata: HeaderMap::new(),
            authority: None,
            streaming: streaming(args, call_name, streams)?,
            compression: stack.compression,
        }),
        Workload::External,
        None,
    ))
}

/// How each call of `name` streams, if it does: --stream-messages and
/// --stream-interval, checked against the method and --timeout.
fn streaming(
    args: &LoadCmdArgs,
    name: &str,
    (client, server): (bool, bool),
) -> anyhow::Result<Option<Streaming>> {
    if !client && !server {
        return Ok(None);
    }
    anyhow::ensure!(
        client || (args.stream_messages.is_none() && args.stream_interval.is_none()),
        "{name} is server streaming: a call sends one request, so --stream-messages and --stream-interval do not apply"
    );
    let streaming = Streaming {
        client,
        server,
        messages: args.stream_messages.unwrap_or(1),
        interval: args.stream_interval.unwrap_or_default(),
    };
    let sending = streaming.interval * (streaming.sends() - 1);
    let timeout = args
        .load
        .timeout
        .unwrap_or(crate::settings::DEFAULT_TIMEOUT);
    anyhow::ensure!(
        sending < timeout,
        "a call sends {} messages {:?} apart, {:?} in all: longer than its timeout of {:?} (raise --timeout)",
        streaming.messages,
        streaming.interval,
        sending,
        timeout
    );
    Ok(Some(streaming))
}

/// What a URL asks for: one of our workloads, or any request.
pub(super) enum Parsed {
    Job(Job),
    /// Boxed: a target is large beside a job.
    Request(Box<TargetKind>, Workload, Option<u64>),
}

pub(super) fn query_number<T: std::str::FromStr>(path: &PathAndQuery, name: &str) -> Option<T> {
    path.query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))?
        .parse()
        .ok()
}

pub(super) fn read_body(path: &PathBuf) -> anyhow::Result<Bytes> {
    Ok(Bytes::from(std::fs::read(path).with_context(|| {
        format!("cannot read {}", path.display())
    })?))
}

pub(super) fn parse_headers(raw: &[String]) -> anyhow::Result<HeaderMap> {
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
