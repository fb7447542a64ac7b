//! `wirebench serve`: one server role per process, so each can be probed,
//! pinned and killed on its own.
//!
//! `--workers N` sets tokio's worker threads: N threads run every
//! connection and handler of the process. For comparison with the seeds:
//! uvicorn's `--workers N` is N *processes*, each a single-threaded event
//! loop (wirebench's equivalent is N server processes on one port);
//! grpcio's `ThreadPoolExecutor(max_workers=10)` is a pool of threads that
//! run handlers while a separate core polls the sockets. Here handlers and
//! I/O share the same N threads, in both stacks alike.
//!
//! One match on the workload builds its service whole (a pipeline role
//! with its upstream and the TLS it calls it with) and hands it to the one
//! `wirebench_server::serve`; everything else (the listener, TLS, the
//! metrics endpoint, the bounded drain) is the same for every workload.

use std::io::Write;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::{TcpListener, TcpSocket};
use wirebench_proto::message::MessageSource;
use wirebench_server::grpc::GrpcImpl;
use wirebench_server::message::MessageHandler;
use wirebench_server::pipeline::{Limits, PipelineConfig, Role};
use wirebench_server::tls::CertifiedKey;
use wirebench_server::{PayloadHandler, ServeOptions};

use crate::args::{ServeArgs, ServiceKind};
use crate::children::LISTENING_PREFIX;
use crate::signals::Cancel;

/// How long a stopping server lets in-flight requests and streams finish.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    // Thousands of clients need thousands of sockets.
    crate::provenance::raise_open_files_limit();
    let workers = args.workers.unwrap_or_else(crate::default_threads);
    anyhow::ensure!(workers > 0, "--workers must be at least 1");
    anyhow::ensure!(
        args.grpc_impl == wirebench_server::grpc::GrpcImpl::Tonic
            || (matches!(args.workload, ServiceKind::Payload)
                && args.stack == wirebench_proto::vocab::Stack::GRPC),
        "--grpc-impl grpcio serves the payload workload on the plain grpc stack only"
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        anyhow::ensure!(
            args.role.is_none() || args.workload == ServiceKind::Pipeline,
            "--role is for `serve pipeline`"
        );
        anyhow::ensure!(
            args.mix.is_none() || args.workload == ServiceKind::Mix,
            "--mix is for `serve mix`"
        );
        let tls_key = tls_key(&args)?;
        let own_key = tls_key.as_ref().map(|served| &served.key);
        // The one match on the workload: each arm builds its service,
        // whole, and serves it.
        match args.workload {
            ServiceKind::Payload => {
                let what = match args.grpc_impl {
                    _ if !args.stack.is_grpc() => String::new(),
                    GrpcImpl::Grpcio => ", gRPC C-core".to_owned(),
                    GrpcImpl::Tonic => format!(", handlers {}", args.grpc_exec),
                };
                let what = format!("payload, max {} KiB{what}", args.max_size_kb);
                let handler = PayloadHandler::new(args.max_size_kb);
                run(
                    &args,
                    workers,
                    own_key,
                    args.stack.default_port(),
                    handler,
                    what,
                )
                .await
            }
            ServiceKind::Message => {
                let codegen = args.own.schema.one_codegen()?;
                let source = match args.own.source(args.seed, args.items) {
                    Some(own) => own.with_codegen(codegen),
                    None => MessageSource::shape(args.shape, args.seed, args.items, codegen),
                };
                let source = crate::args::available(&source)?;
                let handler = MessageHandler::load(&source, args.max_size_kb)?;
                let what = format!(
                    "message {}, max {} KiB",
                    handler.describe(),
                    args.max_size_kb
                );
                run(
                    &args,
                    workers,
                    own_key,
                    args.stack.default_port(),
                    handler,
                    what,
                )
                .await
            }
            ServiceKind::Mix => {
                let calls = mix_routes(&args)?;
                let what = format!(
                    "mix {} ({} calls), max {} KiB",
                    args.mix
                        .as_ref()
                        .map_or(String::new(), |p| p.display().to_string()),
                    calls.len(),
                    args.max_size_kb
                );
                run(
                    &args,
                    workers,
                    own_key,
                    args.stack.default_port(),
                    calls,
                    what,
                )
                .await
            }
            ServiceKind::Pipeline => {
                let config = pipeline_config(&args, own_key)?;
                let what = match &config.upstream {
                    Some(upstream) => format!(
                        "pipeline {}, calls {upstream}, hop {}",
                        config.role,
                        config.hop.name()
                    ),
                    None => format!("pipeline {}", config.role),
                };
                let port = config.role.default_port(args.stack);
                run(&args, workers, own_key, port, config, what).await
            }
        }
    })
}

/// `serve pipeline`'s role, whole: its upstream and the TLS it calls it
/// with (`own`: the certificate this service presents).
fn pipeline_config(args: &ServeArgs, own: Option<&CertifiedKey>) -> anyhow::Result<PipelineConfig> {
    let role = args
        .role
        .context("`serve pipeline` needs --role producer|processor|aggregator")?;
    let upstream = role.next().map(|next| {
        args.upstream
            .clone()
            .unwrap_or_else(|| format!("127.0.0.1:{}", next.default_port(args.stack)))
    });
    anyhow::ensure!(
        role.next().is_some() || args.upstream.is_none(),
        "the producer calls no other service: --upstream does not apply"
    );
    Ok(PipelineConfig {
        role,
        upstream,
        limits: Limits {
            default_records: args.records,
            max_records: args.max_records,
        },
        hop: args.hop,
        hop_timeout: args.hop_timeout,
        upstream_tls: upstream_tls(args, role, own)?,
    })
}

/// Binds, says where it listens and what it serves (`what`), and serves
/// `service` (and `--metrics`) until SIGINT/SIGTERM, then drains for at
/// most [`SHUTDOWN_GRACE`].
async fn run(
    args: &ServeArgs,
    workers: usize,
    own_key: Option<&CertifiedKey>,
    default_port: u16,
    service: impl wirebench_server::Service,
    what: String,
) -> anyhow::Result<()> {
    // The service's own refusals (a pipeline over HTTP/3, ...) come
    // before anything is bound or announced.
    service.check(args.stack)?;
    let tls = match own_key {
        Some(key) => {
            let client_ca = match &args.tls_client_ca {
                Some(path) => Some(
                    std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                ),
                None => None,
            };
            Some(key.server_config_for(args.stack.alpn(), client_ca.as_deref())?)
        }
        None => None,
    };
    let port = args.port.unwrap_or(default_port);
    let listener = bind(SocketAddr::new(args.bind, port), args.reuse_port)
        .with_context(|| format!("cannot listen on {}:{port}", args.bind))?;
    let addr = listener.local_addr()?;
    let metrics = match args.metrics {
        Some(at) => Some(
            TcpListener::bind(at)
                .await
                .with_context(|| format!("cannot listen for metrics on {at}"))?,
        ),
        None => None,
    };
    // One set of server options for every workload: TLS, timeouts, the
    // JSON codec and (with --metrics) the counters.
    let options = ServeOptions {
        tls,
        grpc_exec: args.grpc_exec,
        grpc_impl: args.grpc_impl,
        workers,
        idle_timeout: args.idle_timeout,
        header_timeout: args.header_timeout,
        request_timeout: args.request_timeout,
        max_concurrent_streams: args.max_streams,
        json_codec: args.json_codec,
        counters: metrics.as_ref().map(|_| Default::default()),
    };
    let what = match args.stack.speaks_json() {
        true => format!("{what}, JSON by {}", args.json_codec),
        false => what,
    };
    let what = match &metrics {
        Some(listener) => format!(
            "{what}; metrics on http://{}/metrics",
            listener.local_addr()?
        ),
        None => what,
    };
    println!(
        "{LISTENING_PREFIX}{addr} ({what}, {}, {workers} workers)",
        args.stack
    );
    std::io::stdout().flush()?;
    let cancel = Cancel::on_signals(None)?;
    let cancel_metrics = cancel.clone();
    let shutdown = {
        let cancel = cancel.clone();
        async move { cancel.cancelled().await }
    };
    // Graceful, but bounded: in-flight requests get SHUTDOWN_GRACE to
    // finish; long-lived streams (the pipeline's hops) would otherwise
    // keep a stopping server alive forever.
    let forced = async move {
        cancel.cancelled().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let metrics_options = options.clone();
    let serving = wirebench_server::serve(args.stack, listener, service, options, shutdown);
    let metrics = async {
        if let Some(listener) = metrics {
            let cancel = cancel_metrics.clone();
            wirebench_server::metrics::serve(
                listener,
                args.stack.name(),
                &metrics_options,
                async move { cancel.cancelled().await },
            )
            .await?;
        }
        // Stopped with the server: the server's own drain decides the end.
        std::future::pending::<Result<(), wirebench_server::ServeError>>().await
    };
    tokio::select! {
        served = serving => served?,
        served = metrics => served?,
        () = forced => {}
    }
    Ok(())
}

/// `serve mix`: a handler per call of `--mix`, each call's message
/// generated from the file's seed.
fn mix_routes(args: &ServeArgs) -> anyhow::Result<Vec<wirebench_server::message::MixRoute>> {
    let path = args.mix.as_ref().context("`serve mix` needs --mix FILE")?;
    let mix = crate::mix_file::MixFile::read(path)?;
    let codegen = args.own.schema.one_codegen()?;
    mix.messages()?
        .into_iter()
        .map(|(name, source, direction)| {
            let source = crate::args::available(&source.with_codegen(codegen))?;
            Ok(wirebench_server::message::MixRoute {
                name,
                direction,
                handler: MessageHandler::load(&source, args.max_size_kb)?,
            })
        })
        .collect()
}

/// Binds `addr`, with SO_REUSEPORT when several processes share the port.
fn bind(addr: SocketAddr, reuse_port: bool) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if reuse_port {
        socket.set_reuseport(true)?;
    }
    socket.bind(addr)?;
    socket.listen(1024)
}

/// The certificate of a `+tls` stack: from --tls-cert/--tls-key, or a
/// self-signed certificate made now. A made one is written to a temporary
/// file whose path is printed, so clients can trust it with --cacert; the
/// file goes when the server stops.
struct ServedCert {
    key: CertifiedKey,
    _file: Option<tempfile::NamedTempFile>,
}

fn tls_key(args: &ServeArgs) -> anyhow::Result<Option<ServedCert>> {
    if !args.stack.tls {
        anyhow::ensure!(
            args.tls_cert.is_none() && args.upstream_ca.is_none() && args.tls_client_ca.is_none(),
            "--tls-cert, --tls-client-ca and --upstream-ca are for +tls stacks (e.g. --stack rest+tls)"
        );
        return Ok(None);
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return Ok(Some(ServedCert {
            key: CertifiedKey::from_files(cert, key)?,
            _file: None,
        }));
    }
    let key = CertifiedKey::self_signed()?;
    let mut file = tempfile::Builder::new()
        .prefix("wirebench-")
        .suffix("-cert.pem")
        .tempfile()
        .context("cannot write the certificate")?;
    std::io::Write::write_all(&mut file, key.cert_pem.as_bytes())
        .context("cannot write the certificate")?;
    eprintln!(
        "wirebench: self-signed certificate for localhost: {}",
        file.path().display()
    );
    Ok(Some(ServedCert {
        key,
        _file: Some(file),
    }))
}

/// A `+tls` processor or aggregator's client side: it trusts --upstream-ca,
/// or else the certificate it presents itself (bench gives all three
/// services one certificate).
fn upstream_tls(
    args: &ServeArgs,
    role: Role,
    own: Option<&CertifiedKey>,
) -> anyhow::Result<Option<std::sync::Arc<rustls::ClientConfig>>> {
    let Some(own) = own else {
        return Ok(None);
    };
    if role.next().is_none() {
        anyhow::ensure!(
            args.upstream_ca.is_none(),
            "the producer calls no other service: --upstream-ca does not apply"
        );
        return Ok(None);
    }
    let (trusted, source) = match (&args.upstream_ca, &args.tls_cert) {
        (Some(path), _) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read --upstream-ca {}", path.display()))?,
            format!("--upstream-ca {}", path.display()),
        ),
        (None, Some(cert)) => (
            own.cert_pem.clone(),
            format!("--tls-cert {}", cert.display()),
        ),
        (None, None) => anyhow::bail!(
            "a +tls {} must know the certificate of the service it calls: \
             give --upstream-ca FILE, or one --tls-cert/--tls-key to all three services",
            role
        ),
    };
    let config = wirebench_server::tls::client_config(&trusted, args.stack.alpn())
        .with_context(|| format!("the certificate to trust upstream ({source})"))?;
    Ok(Some(config))
}
