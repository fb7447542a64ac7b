//! The message workload over the REST stacks (`rest`, `rest-h2`,
//! `rest-proto`): `GET /message?index=K` (down; K picks one of a server's
//! several messages, default 0), `POST /message` (up),
//! `POST /message/echo` (echo). Bodies are the canonical proto3 JSON, or
//! protobuf when the request says `application/x-protobuf` (`Accept` for
//! down, `Content-Type` otherwise); the answer is in the same encoding.

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use wirebench_proto::PROTOBUF_MEDIA_TYPE;
use wirebench_proto::message::{self, Direction, Encoding};

use super::MessageHandler;
use crate::RequestError;
use crate::rest::{error_response, wants_protobuf};

pub fn router(handler: MessageHandler) -> Router {
    // Room for the framing around a message of the largest allowed size.
    let body_limit = handler.max_bytes().saturating_add(64 * 1024);
    let router = Router::new()
        .route("/message", get(down).post(up))
        .route("/message/echo", post(echo))
        .fallback(|| async {
            error_response(
                StatusCode::NOT_FOUND,
                "no such route; this server has GET /message, POST /message and POST /message/echo",
            )
        });
    crate::rest::limit_bodies(router, body_limit).with_state(handler)
}

/// A mix's routes: `GET /mix/NAME` for a call whose message goes down,
/// `POST /mix/NAME` for up and echo; each call's own handler.
pub fn mix_router(calls: &[super::MixRoute]) -> Router {
    let largest = calls
        .iter()
        .map(|c| c.handler.max_bytes())
        .max()
        .unwrap_or(0);
    let mut router = Router::new();
    for call in calls {
        let path = wirebench_proto::message::mix_rest_path(&call.name);
        let handler = call.handler.clone();
        let route = match call.direction {
            Direction::Down => get(
                move |query: Result<Query<DownQuery>, QueryRejection>, headers: HeaderMap| {
                    let handler = handler.clone();
                    async move { down(State(handler), query, headers).await }
                },
            ),
            direction => post(move |headers: HeaderMap, body: Bytes| {
                let handler = handler.clone();
                async move { with_body(&handler, direction, &headers, &body) }
            }),
        };
        router = router.route(&path, route);
    }
    let names: Vec<String> = calls
        .iter()
        .map(|c| wirebench_proto::message::mix_rest_path(&c.name))
        .collect();
    let router = router.fallback(move || {
        let names = names.join(", ");
        async move {
            error_response(
                StatusCode::NOT_FOUND,
                &format!("no such route; this server has {names}"),
            )
        }
    });
    crate::rest::limit_bodies(router, largest.saturating_add(64 * 1024))
}

/// `GET /message`'s query.
#[derive(serde::Deserialize)]
struct DownQuery {
    #[serde(default)]
    index: u64,
}

async fn down(
    State(handler): State<MessageHandler>,
    query: Result<Query<DownQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let encoding = if wants_protobuf(&headers) {
        Encoding::Protobuf
    } else {
        Encoding::Json
    };
    match query {
        Ok(Query(DownQuery { index })) => {
            let request = message::down_request(index, encoding);
            answer(&handler, Direction::Down, encoding, &request)
        }
        Err(rejection) => error_response(
            StatusCode::BAD_REQUEST,
            &format!("GET /message?index=K takes a whole number K: {rejection}"),
        ),
    }
}

async fn up(State(handler): State<MessageHandler>, headers: HeaderMap, body: Bytes) -> Response {
    with_body(&handler, Direction::Up, &headers, &body)
}

async fn echo(State(handler): State<MessageHandler>, headers: HeaderMap, body: Bytes) -> Response {
    with_body(&handler, Direction::Echo, &headers, &body)
}

/// A request with the message as its body: its content type says the
/// encoding (JSON or protobuf; anything else is 415).
fn with_body(
    handler: &MessageHandler,
    direction: Direction,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let encoding = if content_type.starts_with(PROTOBUF_MEDIA_TYPE) {
        Encoding::Protobuf
    } else if content_type.starts_with("application/json") {
        Encoding::Json
    } else {
        return error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "expected Content-Type: application/json or application/x-protobuf",
        );
    };
    answer(handler, direction, encoding, body)
}

fn answer(
    handler: &MessageHandler,
    direction: Direction,
    encoding: Encoding,
    body: &[u8],
) -> Response {
    match handler.answer(direction, body, encoding) {
        Ok(answer) => {
            let media = match encoding {
                Encoding::Json => "application/json",
                Encoding::Protobuf => PROTOBUF_MEDIA_TYPE,
            };
            ([(header::CONTENT_TYPE, media)], answer).into_response()
        }
        Err(err @ RequestError::InvalidArgument(_)) => {
            error_response(StatusCode::BAD_REQUEST, &err.to_string())
        }
        Err(err @ RequestError::TooLarge { .. }) => {
            error_response(StatusCode::PAYLOAD_TOO_LARGE, &err.to_string())
        }
    }
}
