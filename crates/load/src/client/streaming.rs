//! What a call brings back ([`Answer`]), and how a streaming gRPC call
//! streams ([`Streaming`]): the messages each way and each answer's
//! latency ([`StreamAnswer`]).

use std::time::Duration;

/// How each call of a streaming gRPC method streams (ghz's streaming
/// calls: our `--stream-messages`, `--stream-interval`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Streaming {
    /// The client sends a stream (client streaming, bidi) ...
    pub client: bool,
    /// ... the server answers with one (server streaming, bidi).
    pub server: bool,
    /// Messages each call sends when the client streams (else 1): the
    /// call's request, again and again.
    pub messages: u32,
    /// The wait between two messages a call sends.
    pub interval: Duration,
}

impl Streaming {
    /// "server streaming", "client streaming" or "bidi".
    pub fn kind(&self) -> &'static str {
        match (self.client, self.server) {
            (true, true) => "bidi",
            (true, false) => "client streaming",
            _ => "server streaming",
        }
    }

    /// Messages a call sends.
    pub fn sends(&self) -> u32 {
        if self.client { self.messages.max(1) } else { 1 }
    }
}

/// What a good call brought back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    /// Response bytes: the body, or the gRPC messages' data.
    pub bytes: u64,
    /// Streaming calls: the messages each way, each answer's latency.
    pub stream: Option<StreamAnswer>,
}

impl Answer {
    /// A unary answer of `bytes`.
    pub fn bytes(bytes: u64) -> Answer {
        Answer {
            bytes,
            stream: None,
        }
    }
}

/// The messages of one streaming call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamAnswer {
    pub sent: u32,
    pub received: u32,
    /// Each answer's latency: since the message it answers was sent
    /// (bidi: the k-th answer, the k-th message; client streaming: the
    /// last), or, server streaming, since the answer before it (the first:
    /// since the request).
    pub message_latency: Vec<Duration>,
}
