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
