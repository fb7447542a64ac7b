//! The pipeline over the REST stacks: `rest` (HTTP/1.1 + JSON), `rest-h2`
//! (HTTP/2 + JSON) and `rest-proto` (HTTP/1.1 + protobuf). The routes are
//! the same on every one; the answer is protobuf when the request accepts
//! `application/x-protobuf`, JSON otherwise. Between services, hyper's
//! client pool: keep-alive HTTP/1.1 connections, or for `rest-h2` one
//! multiplexed HTTP/2 connection.
//!
//! producer `GET /generate?records=N`, processor `GET /process?records=N`,
//! aggregator `GET /aggregate?records=N` (records optional: the seed's
//! `curl http://127.0.0.1:8002/aggregate` works as is).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use wirebench_proto::pipeline::{ProcessedBatch, RecordBatch};
use wirebench_proto::vocab::StackKind;

use super::hop_connect::HopConnector;
use super::{PipelineConfig, PipelineError, Role, work};
use crate::listener::Incoming;
use crate::rest::{PROTOBUF, protobuf, wants_protobuf};

pub async fn serve(
    incoming: Incoming,
    kind: StackKind,
    config: PipelineConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    crate::http_serve::serve_router(
        router(kind, config),
        incoming,
        crate::http_serve::DEFAULT_HEADER_TIMEOUT,
        shutdown,
    )
    .await;
}

#[derive(Clone)]
struct Ctx {
    config: Arc<PipelineConfig>,
    hop: Arc<RestHop>,
}

/// The routes of `config.role`; its hop speaks `kind` (`rest`, `rest-h2`
/// or `rest-proto`).
pub fn router(kind: StackKind, config: PipelineConfig) -> Router {
    let role = config.role;
    let ctx = Ctx {
        hop: Arc::new(RestHop::new(kind, &config)),
        config: Arc::new(config),
    };
    let router = match role {
        Role::Producer => Router::new().route("/generate", get(generate)),
        Role::Processor => Router::new().route("/process", get(process)),
        Role::Aggregator => Router::new().route("/aggregate", get(aggregate)),
    };
    let hint = match role {
        Role::Producer => "GET /generate",
        Role::Processor => "GET /process",
        Role::Aggregator => "GET /aggregate",
    };
    router
        .fallback(move || async move {
            error_response(
                StatusCode::NOT_FOUND,
                &format!("no such route; this {role} serves {hint}?records=N"),
            )
        })
        .with_state(ctx)
}

#[derive(Deserialize)]
struct RecordsQuery {
    records: Option<String>,
}

fn requested(query: &RecordsQuery) -> Result<u32, PipelineError> {
    match query.records.as_deref() {
        None => Ok(0),
        Some(text) => text.trim().parse().map_err(|_| {
            PipelineError::InvalidArgument(format!("records must be a whole number, got '{text}'"))
        }),
    }
}

async fn generate(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<RecordsQuery>,
) -> Result<Response, PipelineError> {
    let n = ctx.config.records(requested(&query)?)?;
    Ok(answer(
        &headers,
        &RecordBatch {
            request_id: 0,
            records: work::generate(n),
            error: String::new(),
            error_code: 0,
        },
    ))
}

async fn process(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<RecordsQuery>,
) -> Result<Response, PipelineError> {
    let n = ctx.config.records(requested(&query)?)?;
    let batch: RecordBatch = ctx.hop.get("generate", n).await?;
    Ok(answer(
        &headers,
        &ProcessedBatch {
            request_id: 0,
            records: work::process(batch.records),
            error: String::new(),
            error_code: 0,
        },
    ))
}

async fn aggregate(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Query(query): Query<RecordsQuery>,
) -> Result<Response, PipelineError> {
    let n = ctx.config.records(requested(&query)?)?;
    let batch: ProcessedBatch = ctx.hop.get("process", n).await?;
    Ok(answer(&headers, &work::aggregate(&batch.records)))
}

/// The message as the caller asked: protobuf or JSON.
fn answer<M: serde::Serialize + prost::Message>(headers: &HeaderMap, message: &M) -> Response {
    if wants_protobuf(headers) {
        return protobuf(message);
    }
    let body = serde_json::to_vec(message).expect("pipeline messages serialize");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The call to the next service: hyper's connection pool.
struct RestHop {
    client: Client<HopConnector, Empty<Bytes>>,
    base: String,
    next: &'static str,
    timeout: std::time::Duration,
    /// `rest-proto`: ask for and decode protobuf.
    protobuf: bool,
}

impl RestHop {
    fn new(kind: StackKind, config: &PipelineConfig) -> RestHop {
        let connector = config.hop_connector();
        RestHop {
            base: format!("{}://{}", connector.scheme(), config.upstream()),
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(usize::MAX)
                .http2_only(kind == StackKind::RestH2)
                .build(connector),
            next: config.role.next().map_or("", Role::name),
            timeout: config.hop_timeout,
            protobuf: kind == StackKind::RestProto,
        }
    }

    async fn get<T: DeserializeOwned + prost::Message + Default>(
        &self,
        path: &str,
        records: u32,
    ) -> Result<T, PipelineError> {
        let url = format!("{}/{path}?records={records}", self.base);
        let unavailable = |why: String| {
            PipelineError::Unavailable(format!(
                "{} at {} is unavailable: {why}",
                self.next, self.base
            ))
        };
        let exchange = async {
            let mut request = http::Request::get(url.as_str());
            if self.protobuf {
                request = request.header(header::ACCEPT, PROTOBUF);
            }
            let request = request
                .body(Empty::new())
                .map_err(|err| unavailable(format!("bad address: {err}")))?;
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| unavailable(causes(&err)))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|err| unavailable(err.to_string()))?
                .to_bytes();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                // Something further down is missing: say so, as 503 too.
                return Err(PipelineError::Unavailable(format!(
                    "{} answered 503: {}",
                    self.next,
                    String::from_utf8_lossy(&body)
                )));
            }
            if !status.is_success() {
                return Err(PipelineError::BadUpstream(format!(
                    "{} answered {status}: {}",
                    self.next,
                    String::from_utf8_lossy(&body)
                )));
            }
            if self.protobuf {
                return T::decode(body).map_err(|err| {
                    PipelineError::BadUpstream(format!(
                        "{} sent malformed protobuf: {err}",
                        self.next
                    ))
                });
            }
            serde_json::from_slice(&body).map_err(|err| {
                PipelineError::BadUpstream(format!("{} sent malformed JSON: {err}", self.next))
            })
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| Err(unavailable(format!("no answer within {:?}", self.timeout))))
    }
}

/// "client error (Connect): tcp connect error: Connection refused".
fn causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl IntoResponse for PipelineError {
    fn into_response(self) -> Response {
        let status = match &self {
            PipelineError::InvalidArgument(_) => StatusCode::BAD_REQUEST,
            PipelineError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            PipelineError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            PipelineError::BadUpstream(_) => StatusCode::BAD_GATEWAY,
        };
        error_response(status, &self.to_string())
    }
}

fn error_response(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "error": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
