//! The pipeline over REST: JSON bodies, and pooled keep-alive HTTP/1.1
//! clients between services (hyper-util's pool).
//!
//! producer `GET /generate?records=N`, processor `GET /process?records=N`,
//! aggregator `GET /aggregate?records=N` (records optional: the seed's
//! `curl http://127.0.0.1:8002/aggregate` works as is).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;
use wirebench_proto::pipeline::{ProcessedBatch, RecordBatch};

use super::{PipelineConfig, PipelineError, Role, work};
use crate::ServeError;

pub async fn serve(
    listener: TcpListener,
    config: PipelineConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let incoming = crate::listener::incoming(listener, None, config.idle_timeout);
    crate::http_serve::serve_router(
        router(config),
        incoming,
        crate::http_serve::DEFAULT_HEADER_TIMEOUT,
        shutdown,
    )
    .await;
    Ok(())
}

#[derive(Clone)]
struct Ctx {
    config: Arc<PipelineConfig>,
    hop: Arc<RestHop>,
}

pub fn router(config: PipelineConfig) -> Router {
    let role = config.role;
    let ctx = Ctx {
        hop: Arc::new(RestHop::new(&config)),
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
    Query(query): Query<RecordsQuery>,
) -> Result<Response, PipelineError> {
    let n = ctx.config.records(requested(&query)?)?;
    Ok(json(&RecordBatch {
        request_id: 0,
        records: work::generate(n),
        error: String::new(),
        error_code: 0,
    }))
}

async fn process(
    State(ctx): State<Ctx>,
    Query(query): Query<RecordsQuery>,
) -> Result<Response, PipelineError> {
    let n = ctx.config.records(requested(&query)?)?;
    let batch: RecordBatch = ctx.hop.get("generate", n).await?;
    Ok(json(&ProcessedBatch {
        request_id: 0,
        records: work::process(batch.records),
        error: String::new(),
        error_code: 0,
    }))
}

async fn aggregate(
    State(ctx): State<Ctx>,
    Query(query): Query<RecordsQuery>,
) -> Result<Response, PipelineError> {
    let n = ctx.config.records(requested(&query)?)?;
    let batch: ProcessedBatch = ctx.hop.get("process", n).await?;
    Ok(json(&work::aggregate(&batch.records)))
}

fn json(value: &impl serde::Serialize) -> Response {
    let body = serde_json::to_vec(value).expect("pipeline messages serialize");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The call to the next service: a keep-alive connection pool.
struct RestHop {
    client: Client<HttpConnector, Empty<Bytes>>,
    base: String,
    next: &'static str,
    timeout: std::time::Duration,
}

impl RestHop {
    fn new(config: &PipelineConfig) -> RestHop {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(config.hop_timeout));
        RestHop {
            client: Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(usize::MAX)
                .build(connector),
            base: format!("http://{}", config.upstream()),
            next: config.role.next().map_or("", Role::name),
            timeout: config.hop_timeout,
        }
    }

    async fn get<T: DeserializeOwned>(&self, path: &str, records: u32) -> Result<T, PipelineError> {
        let url = format!("{}/{path}?records={records}", self.base);
        let unavailable = |why: String| {
            PipelineError::Unavailable(format!(
                "{} at {} is unavailable: {why}",
                self.next, self.base
            ))
        };
        let exchange = async {
            let uri = url
                .parse()
                .map_err(|err| unavailable(format!("bad address: {err}")))?;
            let response = self
                .client
                .get(uri)
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
