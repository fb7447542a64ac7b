//! The message workload over the `tcp` ceiling: a request frame is one
//! byte naming the direction (`D`, `U`, `E`) and then the protobuf message
//! (for down a `DownRequest`, or nothing); the answer frame is the
//! protobuf answer.

use std::future::Future;

use bytes::Bytes;
use wirebench_proto::message::{Direction, Encoding};

use super::MessageHandler;
use crate::listener::Incoming;
use crate::tcp::Refusal;

pub async fn serve(
    incoming: Incoming,
    handler: MessageHandler,
    request_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let max_request_bytes =
        u32::try_from(handler.max_bytes().saturating_add(1)).unwrap_or(u32::MAX);
    crate::tcp::serve_frames(
        incoming,
        max_request_bytes,
        request_timeout,
        move |request: Bytes| {
            let answer = match request.split_first() {
                Some((&tag, body)) => match Direction::from_tcp_tag(tag) {
                    Some(direction) => handler
                        .answer(direction, body, Encoding::Protobuf)
                        .map(Bytes::from)
                        .map_err(|err| tonic::Status::from(err).into()),
                    None => Err(Refusal {
                        code: tonic::Code::InvalidArgument,
                        message: format!("unknown direction byte {tag:#04x}: D, U or E"),
                    }),
                },
                None => Err(Refusal {
                    code: tonic::Code::InvalidArgument,
                    message: "an empty request: D, U or E first".to_owned(),
                }),
            };
            std::future::ready(answer)
        },
        shutdown,
    )
    .await;
}

/// A mix over the tcp ceiling: a request frame is the call's index (one
/// byte) and then the protobuf message, as for [`serve`].
pub async fn serve_mix(
    incoming: Incoming,
    calls: Vec<super::MixRoute>,
    request_timeout: std::time::Duration,
    shutdown: impl Future<Output = ()>,
) {
    let largest = calls
        .iter()
        .map(|c| c.handler.max_bytes())
        .max()
        .unwrap_or(0);
    let max_request_bytes = u32::try_from(largest.saturating_add(1)).unwrap_or(u32::MAX);
    crate::tcp::serve_frames(
        incoming,
        max_request_bytes,
        request_timeout,
        move |request: Bytes| {
            let answer = match request.split_first() {
                Some((&index, body)) => match calls.get(usize::from(index)) {
                    Some(call) => call
                        .handler
                        .answer(call.direction, body, Encoding::Protobuf)
                        .map(Bytes::from)
                        .map_err(|err| tonic::Status::from(err).into()),
                    None => Err(Refusal {
                        code: tonic::Code::InvalidArgument,
                        message: format!(
                            "no call {index}: this mix has {} calls (0 to {})",
                            calls.len(),
                            calls.len() - 1
                        ),
                    }),
                },
                None => Err(Refusal {
                    code: tonic::Code::InvalidArgument,
                    message: "an empty request: the call's index first".to_owned(),
                }),
            };
            std::future::ready(answer)
        },
        shutdown,
    )
    .await;
}
