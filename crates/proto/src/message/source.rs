//! Where a run's message comes from, and the message loaded: the same
//! for the server and the load generator.

use super::dynamic;
use super::{Encoded, Encoding, FILE_DESCRIPTOR_SET, Shape, ShapeMessage, encode};

/// Where the message of a run comes from: a built-in shape (as generated
/// types, or through reflection), or the user's own `.proto` message with
/// generated values or values from a data file. Server and load generator
/// both [`load`](MessageSource::load) it and get the same message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MessageSource {
    Shape {
        shape: Shape,
        seed: u64,
        items: u32,
        /// Through prost-reflect instead of the generated types.
        dynamic: bool,
    },
    Proto {
        proto: std::path::PathBuf,
        include: Vec<std::path::PathBuf>,
        /// `pkg.Msg`.
        message: String,
        /// The messages of this file (one per line, sent in turn), else
        /// one of generated values.
        data: Option<std::path::PathBuf>,
        seed: u64,
        items: u32,
        string_bytes: usize,
    },
}

/// A loaded message: generated types, or dynamic messages (one, or one
/// per line of a data file, all of one type) and the descriptors of their
/// type.
#[derive(Debug, Clone)]
pub enum Loaded {
    /// Boxed: a built-in message is large beside a dynamic one's handle.
    Generated(Box<ShapeMessage>),
    Dynamic {
        /// Never empty.
        messages: Vec<prost_reflect::DynamicMessage>,
        files: Vec<u8>,
    },
}

impl MessageSource {
    /// The built-in `shape` from `seed`, with `items` in its repeated
    /// fields (None: the shape's realistic size), through reflection when
    /// `dynamic`.
    pub fn shape(shape: Shape, seed: u64, items: Option<u32>, dynamic: bool) -> MessageSource {
        MessageSource::Shape {
            shape,
            seed,
            items: items.unwrap_or_else(|| shape.default_items()),
            dynamic,
        }
    }

    pub fn load(&self) -> Result<Loaded, dynamic::SchemaError> {
        Ok(match self {
            MessageSource::Shape {
                shape,
                seed,
                items,
                dynamic: false,
            } => Loaded::Generated(Box::new(ShapeMessage::generate(*shape, *seed, *items))),
            MessageSource::Shape {
                shape, seed, items, ..
            } => Loaded::Dynamic {
                messages: vec![dynamic::builtin_message(*shape, *seed, *items)],
                files: FILE_DESCRIPTOR_SET.to_vec(),
            },
            MessageSource::Proto {
                proto,
                include,
                message,
                data,
                seed,
                items,
                string_bytes,
            } => {
                let schema = dynamic::Schema::compile(proto, include, message)?;
                let messages = match data {
                    Some(path) => dynamic::read_data(&schema.message, path)?,
                    None => vec![dynamic::generate(
                        &schema.message,
                        *seed,
                        *items,
                        *string_bytes,
                    )],
                };
                Loaded::Dynamic {
                    messages,
                    files: schema.files,
                }
            }
        })
    }

    /// How runs name it: "order", "order (dynamic)", "pkg.Msg".
    pub fn label(&self) -> String {
        match self {
            MessageSource::Shape {
                shape,
                dynamic: false,
                ..
            } => shape.to_string(),
            MessageSource::Shape { shape, .. } => format!("{shape} (dynamic)"),
            MessageSource::Proto { message, .. } => message.clone(),
        }
    }

    /// The same message with `items` in its repeated fields, where items
    /// shape it (not for a message read from a data file).
    pub fn with_items(&self, items: u32) -> Option<MessageSource> {
        let mut source = self.clone();
        match &mut source {
            MessageSource::Shape { items: n, .. } => *n = items,
            MessageSource::Proto { data: Some(_), .. } => return None,
            MessageSource::Proto { items: n, .. } => *n = items,
        }
        Some(source)
    }

    /// Whether the message is served through reflection.
    pub fn is_dynamic(&self) -> bool {
        !matches!(self, MessageSource::Shape { dynamic: false, .. })
    }
}

impl Loaded {
    /// The full name of the message's type, `wirebench.shapes.Order`.
    pub fn type_name(&self) -> String {
        match self {
            Loaded::Generated(message) => message.shape().type_name().to_owned(),
            Loaded::Dynamic { messages, .. } => {
                prost_reflect::ReflectMessage::descriptor(&messages[0])
                    .full_name()
                    .to_owned()
            }
        }
    }

    /// The descriptors of the message's type, encoded.
    pub fn files(&self) -> &[u8] {
        match self {
            Loaded::Generated(_) => FILE_DESCRIPTOR_SET,
            Loaded::Dynamic { files, .. } => files,
        }
    }

    /// How many messages there are (sent in turn).
    pub fn count(&self) -> usize {
        match self {
            Loaded::Generated(_) => 1,
            Loaded::Dynamic { messages, .. } => messages.len(),
        }
    }

    /// Each message and its Ack in `encoding`, in order. A dynamic
    /// message's maps have no order: its encoding is one of several equal
    /// ones.
    pub fn encoded(&self, encoding: Encoding) -> Vec<Encoded> {
        match self {
            Loaded::Generated(message) => vec![message.encoded(encoding)],
            Loaded::Dynamic { messages, .. } => messages
                .iter()
                .map(|message| Encoded {
                    message: dynamic::encode(message, encoding),
                    ack: encode(&dynamic::ack_of(message), encoding),
                })
                .collect(),
        }
    }
}
