//! The message workload over the `tcp` ceiling: a request frame is one
//! byte naming what is asked and then the protobuf message (for down a
//! `DownRequest`, or nothing); the answer frame is the protobuf answer.
//! The byte is the direction (`D`, `U`, `E`) for the message workload, or
//! the call's index for a mix: one table from byte to route serves both.

use std::future::Future;

use bytes::Bytes;
use wirebench_proto::message::{Direction, Encoding};

use super::{MessageHandler, MixRoute};
use crate::listener::Incoming;
use crate::tcp::Refusal;

/// The message workload: `D`, `U` or `E`, then the message.
pub async fn serve(
    incoming: Incoming,
    handler: MessageHandler,
    request_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let routes = Direction::ALL
        .into_iter()
        .map(|direction| {
            let route = MixRoute {
                name: direction.name().to_owned(),
                direction,
                handler: handler.clone(),
            };
            (direction.tcp_tag(), route)
        })
        .collect();
    serve_routes(
        incoming,
        routes,
        ("direction", "D, U or E"),
        request_timeout,
        shutdown,
    )
    .await;
}

/// A mix: the call's index (one byte), then the message.
pub async fn serve_mix(
    incoming: Incoming,
    calls: Vec<MixRoute>,
    request_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let expected = format!("a call's index, 0 to {}", calls.len() - 1);
    let routes = calls
        .into_iter()
        .enumerate()
        .map(|(i, call)| (u8::try_from(i).expect("at most MAX_MIX_CALLS calls"), call))
        .collect();
    serve_routes(
        incoming,
        routes,
        ("call", &expected),
        request_timeout,
        shutdown,
    )
    .await;
}

/// Serves frames whose first byte picks one of `routes`; `byte` names
/// that byte and what it may be, for a refusal.
async fn serve_routes(
    incoming: Incoming,
    routes: Vec<(u8, MixRoute)>,
    (what, expected): (&str, &str),
    request_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let largest = routes
        .iter()
        .map(|(_, route)| route.handler.max_bytes())
        .max()
        .unwrap_or(0);
    let max_request_bytes = u32::try_from(largest.saturating_add(1)).unwrap_or(u32::MAX);
    // Byte -> route, looked up once per request.
    let mut by_tag: [Option<usize>; 256] = [None; 256];
    for (i, (tag, _)) in routes.iter().enumerate() {
        by_tag[usize::from(*tag)] = Some(i);
    }
    let (what, expected) = (what.to_owned(), expected.to_owned());
    crate::tcp::serve_frames(
        incoming,
        max_request_bytes,
        request_timeout,
        move |request: Bytes| {
            let refuse = |message: String| Refusal {
                code: tonic::Code::InvalidArgument,
                message,
            };
            let answer = match request.split_first() {
                Some((&tag, body)) => match by_tag[usize::from(tag)] {
                    Some(i) => {
                        let route = &routes[i].1;
                        route
                            .handler
                            .answer(route.direction, body, Encoding::Protobuf)
                            .map(Bytes::from)
                            .map_err(|err| tonic::Status::from(err).into())
                    }
                    None => Err(refuse(format!(
                        "unknown {what} byte {tag:#04x}: {expected}"
                    ))),
                },
                None => Err(refuse(format!("an empty request: {expected} first"))),
            };
            std::future::ready(answer)
        },
        shutdown,
    )
    .await;
}
