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

use std::io::Write;

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::{TcpListener, TcpSocket};
use wirebench_server::PayloadHandler;

use crate::args::{ServeArgs, ServeWorkload};
use crate::children::LISTENING_PREFIX;
use crate::signals::Cancel;

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let workers = args.workers.unwrap_or_else(crate::default_threads);
    anyhow::ensure!(workers > 0, "--workers must be at least 1");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(async {
        let port = args.port.unwrap_or_else(|| args.stack.default_port());
        let listener = bind(SocketAddr::new(args.bind, port), args.reuse_port)
            .with_context(|| format!("cannot listen on {}:{port}", args.bind))?;
        let addr = listener.local_addr()?;
        let ServeWorkload::Payload = args.workload;
        println!(
            "{LISTENING_PREFIX}{addr} (payload, {}, {workers} workers, max {} KiB)",
            args.stack, args.max_size_kb
        );
        std::io::stdout().flush()?;
        let cancel = Cancel::on_signals(None)?;
        let shutdown = async move { cancel.cancelled().await };
        let handler = PayloadHandler::new(args.max_size_kb);
        wirebench_server::serve_payload(args.stack, listener, handler, shutdown).await?;
        Ok(())
    })
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
