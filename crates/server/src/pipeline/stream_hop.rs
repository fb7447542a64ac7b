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
use wirebench_proto::pipeline::{GenerateRequest, ProcessRequest, ProcessedBatch, RecordBatch};

use super::PipelineError;
use super::grpc_hop::HopChannel;

/// Messages that carry a request id.
pub trait Correlated: Send + 'static {
    fn request_id(&self) -> u64;
    fn set_request_id(&mut self, id: u64);
}

macro_rules! correlated {
    ($($t:ty),*) => {$(
        impl Correlated for $t {
            fn request_id(&self) -> u64 {
                self.request_id
            }
            fn set_request_id(&mut self, id: u64) {
                self.request_id = id;
            }
        }
    )*};
}
correlated!(GenerateRequest, RecordBatch, ProcessRequest, ProcessedBatch);

type OpenFuture<Resp> =
    Pin<Box<dyn Future<Output = Result<Streaming<Resp>, tonic::Status>> + Send>>;
/// Opens the bidirectional rpc on a channel, sending what the stream yields.
pub type Opener<Req, Resp> = fn(HopChannel, ReceiverStream<Req>) -> OpenFuture<Resp>;

type Table<Resp> = Arc<Mutex<HashMap<u64, oneshot::Sender<Resp>>>>;

/// Requests queued for the stream before callers wait for room.
const OUTBOUND_QUEUE: usize = 1024;

struct Live<Req, Resp> {
    outbound: mpsc::Sender<Req>,
    pending: Table<Resp>,
    closed: Arc<AtomicBool>,
}

pub struct StreamHop<Req, Resp> {
    /// Name and address of the next service, for messages.
    next: String,
    channel: HopChannel,
    open: Opener<Req, Resp>,
    timeout: Duration,
    live: tokio::sync::Mutex<Option<Arc<Live<Req, Resp>>>>,
    next_id: AtomicU64,
}

impl<Req: Correlated, Resp: Correlated> StreamHop<Req, Resp> {
    pub fn new(
        next: String,
        channel: HopChannel,
        open: Opener<Req, Resp>,
        timeout: Duration,
    ) -> Self {
        Self {
            next,
            channel,
            open,
            timeout,
            live: tokio::sync::Mutex::new(None),
            next_id: AtomicU64::new(1),
        }
    }

    /// Sends `request` on the stream and waits for its answer.
    pub async fn call(&self, mut request: Req) -> Result<Resp, PipelineError> {
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
        if live.outbound.send(request).await.is_err() {
            return Err(self.unavailable("the stream closed"));
        }
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(_)) => Err(self.unavailable("the stream closed before the answer came")),
            Err(_) => Err(self.unavailable(&format!("no answer within {:?}", self.timeout))),
        }
    }

    /// Requests waiting for an answer (for tests and diagnostics).
    pub async fn pending(&self) -> usize {
        match &*self.live.lock().await {
            Some(live) => lock(&live.pending).len(),
            None => 0,
        }
    }

    fn unavailable(&self, why: &str) -> PipelineError {
        PipelineError::Unavailable(format!("{} is unavailable: {why}", self.next))
    }

    /// The open stream, opening one if there is none or the last one closed.
    async fn live(&self) -> Result<Arc<Live<Req, Resp>>, PipelineError> {
        let mut slot = self.live.lock().await;
        if let Some(live) = slot.as_ref().filter(|l| !l.closed.load(Ordering::Acquire)) {
            return Ok(Arc::clone(live));
        }
        let (outbound, queue) = mpsc::channel(OUTBOUND_QUEUE);
        let open = (self.open)(self.channel.clone(), ReceiverStream::new(queue));
        let inbound = tokio::time::timeout(self.timeout, open)
            .await
            .map_err(|_| self.unavailable(&format!("no stream within {:?}", self.timeout)))?
            .map_err(|status| self.unavailable(status.message()))?;
        let live = Arc::new(Live {
            outbound,
            pending: Arc::default(),
            closed: Arc::new(AtomicBool::new(false)),
        });
        tokio::spawn(read_answers(
            inbound,
            Arc::clone(&live.pending),
            Arc::clone(&live.closed),
        ));
        *slot = Some(Arc::clone(&live));
        Ok(live)
    }
}

/// Hands every answer to its caller; when the stream ends, fails them all.
async fn read_answers<Resp: Correlated>(
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
