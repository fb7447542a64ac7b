//! The pipeline over the REST stacks: `rest` (HTTP/1.1 + JSON), `rest-h2`
//! (HTTP/2 + JSON) and `rest-proto` (HTTP/1.1 + protobuf). One route per
//! role, the same on every stack; the answer is protobuf when the request
//! accepts `application/x-protobuf`, JSON otherwise. Between services,
//! [`RestHop`]: hyper's client pool, keep-alive HTTP/1.1 connections or for
//! `rest-h2` one multiplexed HTTP/2 connection.
//!
//! producer `GET /generate?records=N`, processor `GET /process?records=N`,
//! aggregator `GET /aggregate?records=N` (records optional: the seed's
//! `curl http://127.0.0.1:8002/aggregate` works as is).

use std::marker::PhantomData;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use serde::Deserialize;
use wirebench_proto::PROTOBUF_MEDIA_TYPE;
use wirebench_proto::pipeline_hop::{HopAnswer, HopRequest};
use wirebench_proto::vocab::{Encoding, Stack};

use super::hop_connect::HopConnector;
use super::roles::{Answer, HopFailure, Hops, Role, Upstream, within};
use super::{PipelineConfig, PipelineError, Role as RoleName};
use crate::rest::{error_response, protobuf, wants_protobuf};

/// The route of `config.role`; its hop speaks `stack` (`rest`, `rest-h2`
/// or `rest-proto`).
pub fn router(stack: Stack, config: &PipelineConfig) -> Router {
    let name = config.role;
    let route = match name {
        RoleName::Producer => "/generate",
        RoleName::Processor => "/process",
        RoleName::Aggregator => "/aggregate",
    };
    let hops = RestHops {
        http2: stack.is_http2(),
        protobuf: stack.encoding() == Encoding::Protobuf,
    };
    let role = Arc::new(Role::new(config, &hops));
    Router::new()
        .route(route, get(answer))
        .fallback(move || async move {
            error_response(
                StatusCode::NOT_FOUND,
                &format!("no such route; this {name} serves GET {route}?records=N"),
            )
        })
        .with_state(role)
}

#[derive(Deserialize)]
struct RecordsQuery {
    // Text, not u32, so a bad value gets our message rather than serde's.
    records: Option<String>,
}

/// Every role's one route: decode the query, do the work, encode the
/// answer as the caller asked (protobuf or JSON).
async fn answer(
    State(role): State<Arc<Role<RestHops>>>,
    headers: HeaderMap,
    Query(query): Query<RecordsQuery>,
) -> Result<Response, PipelineError> {
    let requested = match query.records.as_deref() {
        None => 0,
        Some(text) => text.trim().parse().map_err(|_| {
            PipelineError::InvalidArgument(format!("records must be a whole number, got '{text}'"))
        })?,
    };
    let answer: Answer = role.answer(requested).await?;
    Ok(if wants_protobuf(&headers) {
        protobuf(answer.encode_protobuf(0))
    } else {
        (
            [(header::CONTENT_TYPE, "application/json")],
            answer.encode_json(),
        )
            .into_response()
    })
}

/// The REST hop kind: `rest-proto` asks for protobuf, `rest-h2` speaks
/// HTTP/2.
pub struct RestHops {
    http2: bool,
    protobuf: bool,
}

impl Hops for RestHops {
    type To<R: HopRequest> = RestHop<R>;

    fn to<R: HopRequest>(&self, config: &PipelineConfig) -> RestHop<R> {
        let connector = config.hop_connector();
        RestHop {
            base: format!("{}://{}", connector.scheme(), config.upstream()),
            client: Client::builder(crate::task::Inherit)
                .pool_max_idle_per_host(usize::MAX)
                .http2_only(self.http2)
                .build(connector),
            timeout: config.hop_timeout,
            protobuf: self.protobuf,
            request: PhantomData,
        }
    }
}

/// The call to the next service's route: hyper's connection pool.
pub struct RestHop<R> {
    client: Client<HopConnector, Empty<Bytes>>,
    base: String,
    timeout: std::time::Duration,
    /// `rest-proto`: ask for and decode protobuf.
    protobuf: bool,
    request: PhantomData<fn() -> R>,
}

impl<R: HopRequest> Upstream<<R::Answer as HopAnswer>::Item> for RestHop<R> {
    async fn fetch(&self, records: u32) -> Result<Vec<<R::Answer as HopAnswer>::Item>, HopFailure> {
        let url = format!("{}{}?records={records}", self.base, R::ROUTE);
        let exchange = async {
            let mut request = http::Request::get(url.as_str());
            if self.protobuf {
                request = request.header(header::ACCEPT, PROTOBUF_MEDIA_TYPE);
            }
            let request = request
                .body(Empty::new())
                .map_err(|err| HopFailure::Unreachable(format!("bad address: {err}")))?;
            let response = self
                .client
                .request(request)
                .await
                .map_err(|err| HopFailure::Unreachable(causes(&err)))?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|err| HopFailure::Unreachable(err.to_string()))?
                .to_bytes();
            if !status.is_success() {
                return Err(HopFailure::Refused {
                    status: status.to_string(),
                    unavailable: status == StatusCode::SERVICE_UNAVAILABLE,
                    message: String::from_utf8_lossy(&body).into_owned(),
                });
            }
            let batch = if self.protobuf {
                prost::Message::decode(body)
                    .map_err(|err| HopFailure::Malformed(err.to_string()))?
            } else {
                wirebench_proto::json::from_slice::<R::Answer>(&body)
                    .map_err(HopFailure::Malformed)?
            };
            batch
                .into_items()
                .map_err(|(code, message)| HopFailure::refused_with_code(code, message))
        };
        within(self.timeout, exchange).await
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
