//! One long-lived bidirectional stream to the next service, carrying many
//! requests at once (seed 002's design). Each request gets a fresh id; a
//! reader task matches answers to waiting callers through a correlation
//! table.
//!
//! Faults: a caller that gives up (timeout, or its own client cancelled)
//! removes its entry on drop, so the table never keeps stale entries. When
//! the stream ends or fails, every waiting caller gets UNAVAILABLE at once
//! and the next call opens a new stream: traffic resumes by itself when the
//! next service comes back.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;
use wirebench_proto::pipeline_hop::{HopAnswer, HopRequest};

use super::roles::HopFailure;

type OpenFuture<Resp> =
    Pin<Box<dyn Future<Output = Result<Streaming<Resp>, tonic::Status>> + Send>>;
/// Opens the bidirectional rpc, sending what the stream yields.
type Opener<Req, Resp> = Box<dyn Fn(ReceiverStream<Req>) -> OpenFuture<Resp> + Send + Sync>;

type Table<Resp> = Arc<Mutex<HashMap<u64, oneshot::Sender<Resp>>>>;

/// Requests queued for the stream before callers wait for room.
const OUTBOUND_QUEUE: usize = 1024;

struct Live<Req, Resp> {
    outbound: mpsc::Sender<Req>,
    pending: Table<Resp>,
    closed: Arc<AtomicBool>,
}

pub struct StreamHop<Req, Resp> {
    open: Opener<Req, Resp>,
    timeout: Duration,
    live: tokio::sync::Mutex<Option<Arc<Live<Req, Resp>>>>,
    next_id: AtomicU64,
}

impl<Req: HopRequest, Resp: HopAnswer> StreamHop<Req, Resp> {
    /// A hop that opens its stream with `open` when the first request
    /// comes, and again whenever the last one closed.
    pub fn new(
        open: impl Fn(ReceiverStream<Req>) -> OpenFuture<Resp> + Send + Sync + 'static,
        timeout: Duration,
    ) -> Self {
        Self {
            open: Box::new(open),
            timeout,
            live: tokio::sync::Mutex::new(None),
            next_id: AtomicU64::new(1),
        }
    }

    /// Sends `request` on the stream and waits for its answer.
    pub async fn call(&self, mut request: Req) -> Result<Resp, HopFailure> {
        let live = self.live().await?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        request.set_request_id(id);
        let (tx, rx) = oneshot::channel();
        lock(&live.pending).insert(id, tx);
        // Removes the entry however this call ends: answered, timed out,
        // failed, or dropped because our own caller went away.
        let _entry = Entry {
            table: &live.pending,
            id,
        };
        let unreachable = |why: &str| HopFailure::Unreachable(why.to_owned());
        if live.outbound.send(request).await.is_err() {
            return Err(unreachable("the stream closed"));
        }
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(unreachable("the stream closed before the answer came")),
            Err(_) => Err(unreachable(&format!("no answer within {:?}", self.timeout))),
        }
    }

    /// Requests waiting for an answer (for tests and diagnostics).
    pub async fn pending(&self) -> usize {
        match &*self.live.lock().await {
            Some(live) => lock(&live.pending).len(),
            None => 0,
        }
    }

    /// The open stream, opening one if there is none or the last one closed.
    async fn live(&self) -> Result<Arc<Live<Req, Resp>>, HopFailure> {
        let mut slot = self.live.lock().await;
        if let Some(live) = slot.as_ref().filter(|l| !l.closed.load(Ordering::Acquire)) {
            return Ok(Arc::clone(live));
        }
        let (outbound, queue) = mpsc::channel(OUTBOUND_QUEUE);
        let open = (self.open)(ReceiverStream::new(queue));
        let inbound = tokio::time::timeout(self.timeout, open)
            .await
            .map_err(|_| HopFailure::Unreachable(format!("no stream within {:?}", self.timeout)))?
            .map_err(|status| HopFailure::Unreachable(status.message().to_owned()))?;
        let live = Arc::new(Live {
            outbound,
            pending: Arc::default(),
            closed: Arc::new(AtomicBool::new(false)),
        });
        crate::task::spawn(read_answers(
            inbound,
            Arc::clone(&live.pending),
            Arc::clone(&live.closed),
        ));
        *slot = Some(Arc::clone(&live));
        Ok(live)
    }
}

/// Hands every answer to its caller; when the stream ends, fails them all.
async fn read_answers<Resp: HopAnswer>(
    mut inbound: Streaming<Resp>,
    pending: Table<Resp>,
    closed: Arc<AtomicBool>,
) {
    while let Ok(Some(answer)) = inbound.message().await {
        if let Some(caller) = lock(&pending).remove(&answer.request_id()) {
            // The caller may have given up meanwhile; that is fine.
            let _ = caller.send(answer);
        }
    }
    closed.store(true, Ordering::Release);
    // Dropping the senders wakes every waiting caller with an error.
    lock(&pending).clear();
}

struct Entry<'a, Resp> {
    table: &'a Table<Resp>,
    id: u64,
}

impl<Resp> Drop for Entry<'_, Resp> {
    fn drop(&mut self) {
        lock(self.table).remove(&self.id);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
