//! The `message` workload: one message (a built-in shape, generated once
//! from `--seed` and `--items`) served in three directions over every
//! stack. The work is written once, here, and measured whole: the server
//! keeps the message as data and encodes it for every `down` request;
//! it decodes every `up` and `echo` request it gets, answering `up` with an
//! [`Ack`](wirebench_proto::message::service::Ack) computed from what it
//! decoded and `echo` with what it decoded, encoded again. Nothing is
//! cached. The adapters ([`rest`], [`grpc`], [`tcp`]) only move bytes: each
//! hands a request's body and its encoding to [`MessageHandler::answer`].

pub mod grpc;
pub mod rest;
pub mod tcp;

use std::future::Future;
use std::sync::Arc;

use prost_reflect::{DynamicMessage, ReflectMessage};
use wirebench_proto::message::compiled::Codegen;
use wirebench_proto::message::compiled::CompiledMessages;
use wirebench_proto::message::dynamic::{self, SchemaError};
use wirebench_proto::message::{
    self, Direction, Encoding, Loaded, MessageSource, Shape, ShapeMessage, WireMessage, ack_of,
};
use wirebench_proto::vocab::Stack;

use crate::listener::Incoming;
use crate::{RequestError, ServeError, ServeOptions};

/// A message's work in both encodings, whatever its type.
trait MessageWork: Send + Sync + 'static {
    /// Message `index` of the server's messages (modulo their count).
    fn down(&self, index: u64, encoding: Encoding) -> Vec<u8>;
    fn up(&self, body: &[u8], encoding: Encoding) -> Result<Vec<u8>, String>;
    fn echo(&self, body: &[u8], encoding: Encoding) -> Result<Vec<u8>, String>;
}

/// A message of a type generated at build time (prost + pbjson).
struct Generated<M>(M);

impl<M: WireMessage> MessageWork for Generated<M> {
    /// One message: every index is it.
    fn down(&self, _index: u64, encoding: Encoding) -> Vec<u8> {
        message::encode(&self.0, encoding)
    }

    fn up(&self, body: &[u8], encoding: Encoding) -> Result<Vec<u8>, String> {
        let decoded: M = message::decode(body, encoding)?;
        Ok(message::encode(&ack_of(&decoded), encoding))
    }

    fn echo(&self, body: &[u8], encoding: Encoding) -> Result<Vec<u8>, String> {
        let decoded: M = message::decode(body, encoding)?;
        Ok(message::encode(&decoded, encoding))
    }
}

/// The user's schema, compiled: its generated types in the library built
/// for it (`wirebench_proto::message::compiled`), the same prost and pbjson
/// code a built-in shape has.
struct Compiled(Arc<CompiledMessages>);

impl MessageWork for Compiled {
    fn down(&self, index: u64, encoding: Encoding) -> Vec<u8> {
        self.0.down(index, encoding)
    }

    fn up(&self, body: &[u8], encoding: Encoding) -> Result<Vec<u8>, String> {
        Ok(message::encode(&self.0.up(body, encoding)?, encoding))
    }

    fn echo(&self, body: &[u8], encoding: Encoding) -> Result<Vec<u8>, String> {
        self.0.echo(body, encoding)
    }
}

/// Messages of a type known only at run time (prost-reflect): the
/// user's own (one, or one per line of a data file), or a built-in shape,
/// with `--codegen dynamic`. Never empty.
struct Dynamic(Vec<DynamicMessage>);

impl Dynamic {
    fn decode(&self, body: &[u8], encoding: Encoding) -> Result<DynamicMessage, String> {
        dynamic::decode(&self.0[0].descriptor(), body, encoding)
    }
}

impl MessageWork for Dynamic {
    fn down(&self, index: u64, encoding: Encoding) -> Vec<u8> {
        let message = &self.0[(index % self.0.len() as u64) as usize];
        dynamic::encode(message, encoding)
    }

    fn up(&self, body: &[u8], encoding: Encoding) -> Result<Vec<u8>, String> {
        let decoded = self.decode(body, encoding)?;
        Ok(message::encode(&dynamic::ack_of(&decoded), encoding))
    }

    fn echo(&self, body: &[u8], encoding: Encoding) -> Result<Vec<u8>, String> {
        let decoded = self.decode(body, encoding)?;
        Ok(dynamic::encode(&decoded, encoding))
    }
}

/// The message workload's handler, shared by every adapter; cheap to clone.
#[derive(Clone)]
pub struct MessageHandler {
    work: Arc<dyn MessageWork>,
    /// What is served, for the server's banner: "order (10 items, seed 1)".
    description: Arc<str>,
    /// The protobuf type served, `wirebench.shapes.Order`.
    type_name: Arc<str>,
    /// The descriptors of that type, encoded.
    files: Arc<[u8]>,
    max_bytes: usize,
}

impl MessageHandler {
    /// The built-in `shape` with `items` in its repeated fields, from
    /// `seed`; requests over `max_size_kb` are refused.
    pub fn shape(shape: Shape, seed: u64, items: u32, max_size_kb: u64) -> MessageHandler {
        let source = MessageSource::shape(shape, seed, Some(items), Codegen::Compiled);
        MessageHandler::load(&source, max_size_kb).expect("a built-in shape always loads")
    }

    /// The message of `source`; requests over `max_size_kb` are refused.
    pub fn load(source: &MessageSource, max_size_kb: u64) -> Result<MessageHandler, SchemaError> {
        let loaded = source.load()?;
        let work: Arc<dyn MessageWork> = match &loaded {
            Loaded::Generated(generated) => match generated.as_ref().clone() {
                ShapeMessage::Tiny(m) => Arc::new(Generated(m)),
                ShapeMessage::Order(m) => Arc::new(Generated(m)),
                ShapeMessage::Telemetry(m) => Arc::new(Generated(m)),
                ShapeMessage::Text(m) => Arc::new(Generated(m)),
                ShapeMessage::Binary(m) => Arc::new(Generated(m)),
            },
            Loaded::Compiled { messages, .. } => Arc::new(Compiled(messages.clone())),
            Loaded::Dynamic { messages, .. } => Arc::new(Dynamic(messages.clone())),
        };
        let description = match source {
            MessageSource::Shape { items, seed, .. } => {
                format!("{} ({items} items, seed {seed})", source.label())
            }
            MessageSource::Proto {
                data: Some(data), ..
            } => format!(
                "{} from {} ({} messages, sent in turn)",
                source.label(),
                data.display(),
                loaded.count()
            ),
            MessageSource::Proto { items, seed, .. } => {
                format!("{} ({items} items, seed {seed})", source.label())
            }
        };
        Ok(MessageHandler {
            work,
            description: description.into(),
            type_name: loaded.type_name().into(),
            files: loaded.files().into(),
            max_bytes: usize::try_from(max_size_kb.saturating_mul(1024)).unwrap_or(usize::MAX),
        })
    }

    pub fn describe(&self) -> &str {
        &self.description
    }

    /// For gRPC reflection: the message service as served, with its types.
    pub fn descriptors(&self) -> Vec<u8> {
        message::service_descriptors(&self.files, &self.type_name)
    }

    /// Largest request body, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// One request's answer: `body` is the request in `encoding` (for
    /// `down` a `DownRequest`, or empty), the answer is in the same
    /// encoding.
    pub fn answer(
        &self,
        direction: Direction,
        body: &[u8],
        encoding: Encoding,
    ) -> Result<Vec<u8>, RequestError> {
        crate::counters::count_request();
        if body.len() > self.max_bytes {
            return Err(RequestError::TooLarge {
                what: "message",
                requested_kb: (body.len() as u64).div_ceil(1024),
                limit_kb: (self.max_bytes / 1024) as u64,
            });
        }
        match direction {
            Direction::Down => {
                message::down_index(body, encoding).map(|index| self.work.down(index, encoding))
            }
            Direction::Up => self.work.up(body, encoding),
            Direction::Echo => self.work.echo(body, encoding),
        }
        .map_err(RequestError::InvalidArgument)
    }
}

/// One call of a mix: its name (its route and method), which way its
/// message goes, and the handler of that message.
#[derive(Clone)]
pub struct MixRoute {
    pub name: String,
    pub direction: Direction,
    pub handler: MessageHandler,
}

/// Most calls a mix may have: a tcp request frame names its call in one
/// byte, below the message workload's `D`, `U` and `E`.
pub const MAX_MIX_CALLS: usize = 64;

/// A mix of calls as one service: each call at `/mix/NAME` (REST),
/// `wirebench.mix.Mix/NAME` (gRPC), or, on the tcp ceiling, the call's
/// index as the frame's first byte.
impl crate::Service for Vec<MixRoute> {
    fn check(&self, _stack: Stack) -> Result<(), ServeError> {
        if self.is_empty() || self.len() > MAX_MIX_CALLS {
            return Err(ServeError::Unsupported(format!(
                "a mix has 1 to {MAX_MIX_CALLS} calls, not {}",
                self.len()
            )));
        }
        Ok(())
    }

    fn rest(self, _stack: Stack) -> Result<axum::Router, ServeError> {
        Ok(rest::mix_router(&self))
    }

    async fn grpc(
        self,
        incoming: Incoming,
        stack: Stack,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        grpc::serve_mix(incoming, &self, stack, options, shutdown).await
    }

    fn tcp(
        self,
        incoming: Incoming,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send {
        tcp::serve_mix(incoming, self, options.request_timeout, shutdown)
    }
}

/// The message workload: every family's adapter over the one handler.
impl crate::Service for MessageHandler {
    fn rest(self, _stack: Stack) -> Result<axum::Router, ServeError> {
        Ok(rest::router(self))
    }

    fn grpc(
        self,
        incoming: Incoming,
        stack: Stack,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = Result<(), ServeError>> + Send {
        grpc::serve(incoming, self, stack, options, shutdown)
    }

    fn tcp(
        self,
        incoming: Incoming,
        options: &ServeOptions,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> impl Future<Output = ()> + Send {
        tcp::serve(incoming, self, options.request_timeout, shutdown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_direction_answers_what_the_contract_says() {
        let handler = MessageHandler::shape(Shape::Order, 3, 5, 1024);
        let message = ShapeMessage::generate(Shape::Order, 3, 5);
        for encoding in [Encoding::Json, Encoding::Protobuf] {
            let want = message.encoded(encoding);
            let down = handler.answer(Direction::Down, b"", encoding).unwrap();
            assert_eq!(down, want.message);
            let second = message::down_request(1, encoding);
            let down = handler.answer(Direction::Down, &second, encoding).unwrap();
            assert_eq!(down, want.message, "one message: every index is it");
            let up = handler
                .answer(Direction::Up, &want.message, encoding)
                .unwrap();
            assert_eq!(up, want.ack);
            let echo = handler
                .answer(Direction::Echo, &want.message, encoding)
                .unwrap();
            assert_eq!(echo, want.message);
            assert!(matches!(
                handler.answer(Direction::Up, b"\xff\xff{", encoding),
                Err(RequestError::InvalidArgument(_))
            ));
        }
        let small = MessageHandler::shape(Shape::Tiny, 1, 1, 1);
        assert!(matches!(
            small.answer(Direction::Echo, &[0; 2048], Encoding::Protobuf),
            Err(RequestError::TooLarge { .. })
        ));
    }
}
