//! The message workload's entry in the contract: a message (built-in or
//! the user's own; or several, one per line of a data file, sent in turn)
//! sent one way or both, encoded once as the servers encode it, and the
//! check each answer must pass: byte for byte, or for the user's own
//! message, byte for byte or else by meaning (maps have no fixed order
//! on the wire).

use std::sync::Arc;

use bytes::Bytes;
use prost_reflect::ReflectMessage;
use wirebench_proto::message::compiled::Codegen;
use wirebench_proto::message::dynamic::{self, SchemaError};
use wirebench_proto::message::{self, Direction, Encoded, Encoding, Loaded, MessageSource, Shape};

use crate::verify::{BodyCheck, ByMeaning};

/// The message workload's requests: which messages, which way, and the
/// messages and their answers encoded once, as the servers encode them.
/// Request `i` carries (or for `down`, asks for) message `i`.
#[derive(Debug)]
pub struct MessageJob {
    pub source: MessageSource,
    pub direction: Direction,
    /// The size the message was scaled to, KiB (`bench --sizes`).
    pub target_kb: Option<u64>,
    /// One per message, never empty.
    json: Vec<Encoded>,
    protobuf: Vec<Encoded>,
    /// Dynamic messages (their maps have no order): their type and
    /// digests, to check the answers to `down` and `echo` by meaning.
    by_meaning: Option<(prost_reflect::MessageDescriptor, Vec<u64>)>,
}

impl PartialEq for MessageJob {
    fn eq(&self, other: &Self) -> bool {
        (&self.source, self.direction) == (&other.source, other.direction)
    }
}

impl Eq for MessageJob {}

impl MessageJob {
    /// The built-in `shape` with `items`, from `seed`, sent `direction`.
    pub fn shape(shape: Shape, seed: u64, items: u32, direction: Direction) -> MessageJob {
        let source = MessageSource::shape(shape, seed, Some(items), Codegen::Compiled);
        MessageJob::load(source, direction).expect("a built-in shape always loads")
    }

    /// The message of `source`, sent `direction`.
    pub fn load(source: MessageSource, direction: Direction) -> Result<MessageJob, SchemaError> {
        let loaded = source.load()?;
        let by_meaning = match &loaded {
            Loaded::Dynamic { messages, .. } => Some((
                messages[0].descriptor(),
                messages.iter().map(dynamic::digest).collect(),
            )),
            // Ours answer byte for byte; a server we did not write (a
            // Python grpcio server of the schema) orders maps its own way.
            Loaded::Compiled { messages, files } => {
                let pool = prost_reflect::DescriptorPool::decode(files.as_slice())
                    .expect("a schema that compiled decodes");
                let descriptor = pool
                    .get_message_by_name(messages.type_name())
                    .expect("the compiled type is in its schema");
                let digests = (0..messages.count() as u64)
                    .map(|i| {
                        let bytes = messages.down(i, Encoding::Protobuf);
                        let message = prost_reflect::DynamicMessage::decode(
                            descriptor.clone(),
                            bytes.as_slice(),
                        )
                        .expect("a compiled message decodes");
                        dynamic::digest(&message)
                    })
                    .collect();
                Some((descriptor, digests))
            }
            Loaded::Generated(_) => None,
        };
        Ok(MessageJob {
            target_kb: None,
            json: loaded.encoded(Encoding::Json),
            protobuf: loaded.encoded(Encoding::Protobuf),
            source,
            direction,
            by_meaning,
        })
    }

    /// The message of `source` with its items scaled so that its protobuf
    /// encoding is about `size_kb` KiB (the first count that reaches it),
    /// sent `direction`.
    pub fn sized(
        source: &MessageSource,
        size_kb: u64,
        direction: Direction,
    ) -> Result<MessageJob, SizeError> {
        let target = size_kb.saturating_mul(1024) as usize;
        let with_items = |items: u32| {
            let source = source.with_items(items).ok_or(SizeError::Fixed {
                message: source.label(),
            })?;
            let job = MessageJob::load(source, direction)?;
            Ok::<_, SizeError>(job)
        };
        let size = |job: &MessageJob| job.protobuf[0].message.len();
        // Doubling, then bisection: the fewest items that reach the size.
        let mut job = with_items(1)?;
        if size(&job) < target && size(&with_items(2)?) == size(&job) {
            return Err(SizeError::Fixed {
                message: source.label(),
            });
        }
        let (mut low, mut high) = (1u32, 1u32);
        while size(&job) < target {
            if high >= 1 << 20 {
                return Err(SizeError::TooLarge {
                    message: source.label(),
                    size_kb,
                });
            }
            low = high;
            high *= 2;
            job = with_items(high)?;
        }
        while high - low > 1 {
            let middle = low + (high - low) / 2;
            let candidate = with_items(middle)?;
            if size(&candidate) >= target {
                high = middle;
                job = candidate;
            } else {
                low = middle;
            }
        }
        job.target_kb = Some(size_kb);
        Ok(job)
    }

    /// How many messages are sent in turn.
    pub fn count(&self) -> usize {
        self.protobuf.len()
    }

    /// Each message and its ack in `encoding`.
    pub fn encoded(&self, encoding: Encoding) -> &[Encoded] {
        match encoding {
            Encoding::Json => &self.json,
            Encoding::Protobuf => &self.protobuf,
        }
    }

    /// The messages' mean size in `encoding`, bytes.
    pub fn mean_bytes(&self, encoding: Encoding) -> usize {
        let encoded = self.encoded(encoding);
        encoded.iter().map(|e| e.message.len()).sum::<usize>() / encoded.len()
    }

    /// The largest message in `encoding`, bytes.
    pub fn max_bytes(&self, encoding: Encoding) -> usize {
        let encoded = self.encoded(encoding);
        encoded.iter().map(|e| e.message.len()).max().unwrap_or(0)
    }

    /// What request `i` sends: message `i`, or for `down` the request
    /// for it (empty, or `{}`, for the first).
    pub(super) fn request(&self, i: usize, encoding: Encoding) -> Bytes {
        match self.direction {
            Direction::Down => Bytes::from(message::down_request(i as u64, encoding)),
            _ => Bytes::from(self.encoded(encoding)[i].message.clone()),
        }
    }

    /// How a correct server's answer to request `i` is recognised: byte
    /// for byte (a built-in shape's generated types encode
    /// deterministically, maps as `BTreeMap`, and an Ack always), or for
    /// the user's message's `down` and `echo` byte for byte or else by
    /// meaning (compiled, ours answer byte for byte; dynamic ones and
    /// servers we did not write order maps their own way).
    pub(super) fn check(&self, i: usize, encoding: Encoding) -> BodyCheck {
        let encoded = &self.encoded(encoding)[i];
        match (self.direction, &self.by_meaning) {
            (Direction::Up, _) => BodyCheck::Exact(Bytes::from(encoded.ack.clone())),
            (_, Some((message, digests))) => BodyCheck::Means {
                expected: Arc::new(ByMeaning {
                    message: message.clone(),
                    encoded: Bytes::from(encoded.message.clone()),
                    digest: digests[i],
                }),
                encoding,
            },
            (_, None) => BodyCheck::Exact(Bytes::from(encoded.message.clone())),
        }
    }
}

/// Why a message cannot be scaled to a size.
#[derive(Debug, thiserror::Error)]
pub enum SizeError {
    #[error(
        "{message} does not grow with --items (it has no repeated field): it cannot be scaled to --sizes"
    )]
    Fixed { message: String },
    #[error("{message} stays under {size_kb} KiB even with a million items")]
    TooLarge { message: String, size_kb: u64 },
    #[error(transparent)]
    Schema(#[from] SchemaError),
}
