//! Where a run's message comes from, and the message loaded: the same
//! for the server and the load generator.

use std::sync::Arc;

use super::compiled::{self, Codegen, CodegenError, CompiledMessages};
use super::dynamic;
use super::service::Ack;
use super::{Encoded, Encoding, FILE_DESCRIPTOR_SET, Shape, ShapeMessage, encode, fnv1a64};

/// Where the message of a run comes from: a built-in shape, or the user's
/// own `.proto` message with generated values or values from a data file;
/// either as compiled code or through reflection ([`Codegen`]). Server
/// and load generator both [`load`](MessageSource::load) it and get the
/// same message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MessageSource {
    Shape {
        shape: Shape,
        seed: u64,
        items: u32,
        /// Compiled: the types generated when wirebench was built.
        codegen: Codegen,
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
        /// Compiled: the schema built into a library at run time.
        codegen: Codegen,
    },
}

/// A loaded message (one, or one per line of a data file, all of one
/// type): a built-in shape's generated type, the user's schema compiled,
/// or dynamic messages; with the descriptors of their type.
#[derive(Debug, Clone)]
pub enum Loaded {
    /// Boxed: a built-in message is large beside a dynamic one's handle.
    Generated(Box<ShapeMessage>),
    Compiled {
        messages: Arc<CompiledMessages>,
        files: Vec<u8>,
    },
    Dynamic {
        /// Never empty.
        messages: Vec<prost_reflect::DynamicMessage>,
        files: Vec<u8>,
    },
}

impl MessageSource {
    /// The built-in `shape` from `seed`, with `items` in its repeated
    /// fields (None: the shape's realistic size), with `codegen`.
    pub fn shape(shape: Shape, seed: u64, items: Option<u32>, codegen: Codegen) -> MessageSource {
        MessageSource::Shape {
            shape,
            seed,
            items: items.unwrap_or_else(|| shape.default_items()),
            codegen,
        }
    }

    /// How the message's code is had.
    pub fn codegen(&self) -> Codegen {
        match self {
            MessageSource::Shape { codegen, .. } | MessageSource::Proto { codegen, .. } => *codegen,
        }
    }

    /// The source as this machine can serve it: a user's schema asked for
    /// compiled is built now (or found in the cache); where no cargo can
    /// be had it falls back to dynamic messages, and the reason is given.
    /// Refused like [`load`](MessageSource::load): a schema that does not
    /// compile, an unknown message, a failed build.
    pub fn available(&self) -> Result<(MessageSource, Option<String>), dynamic::SchemaError> {
        let MessageSource::Proto {
            proto,
            include,
            message,
            codegen: Codegen::Compiled,
            ..
        } = self
        else {
            return Ok((self.clone(), None));
        };
        let schema = dynamic::Schema::compile(proto, include, message)?;
        match compiled::library_path(&schema.files, &proto.display().to_string()) {
            Ok(_) => Ok((self.clone(), None)),
            Err(err @ CodegenError::NoCargo { .. }) => {
                let mut dynamic = self.clone();
                if let MessageSource::Proto { codegen, .. } = &mut dynamic {
                    *codegen = Codegen::Dynamic;
                }
                Ok((
                    dynamic,
                    Some(format!(
                        "{err}: {message} is served through reflection (dynamic), which is not what a compiled server costs"
                    )),
                ))
            }
            Err(err) => Err(err.into()),
        }
    }

    pub fn load(&self) -> Result<Loaded, dynamic::SchemaError> {
        Ok(match self {
            MessageSource::Shape {
                shape,
                seed,
                items,
                codegen: Codegen::Compiled,
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
                codegen,
            } => {
                let schema = dynamic::Schema::compile(proto, include, message)?;
                // Values are read and generated through reflection (errors
                // name the line and field), then handed over in protobuf.
                let messages = match data {
                    Some(path) => dynamic::read_data(&schema.message, path)?,
                    None => vec![dynamic::generate(
                        &schema.message,
                        *seed,
                        *items,
                        *string_bytes,
                    )],
                };
                match codegen {
                    Codegen::Compiled => Loaded::Compiled {
                        messages: Arc::new(compiled::compile(
                            &schema.files,
                            &proto.display().to_string(),
                            &messages,
                        )?),
                        files: schema.files,
                    },
                    Codegen::Dynamic => Loaded::Dynamic {
                        messages,
                        files: schema.files,
                    },
                }
            }
        })
    }

    /// How runs name it: "order", "order (dynamic)", "pkg.Msg",
    /// "pkg.Msg (dynamic)".
    pub fn label(&self) -> String {
        let name = match self {
            MessageSource::Shape { shape, .. } => shape.to_string(),
            MessageSource::Proto { message, .. } => message.clone(),
        };
        match self.codegen() {
            Codegen::Compiled => name,
            Codegen::Dynamic => format!("{name} (dynamic)"),
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

    /// The same message with `codegen`.
    pub fn with_codegen(&self, codegen: Codegen) -> MessageSource {
        let mut source = self.clone();
        match &mut source {
            MessageSource::Shape { codegen: c, .. } | MessageSource::Proto { codegen: c, .. } => {
                *c = codegen
            }
        }
        source
    }
}

impl Loaded {
    /// The full name of the message's type, `wirebench.shapes.Order`.
    pub fn type_name(&self) -> String {
        match self {
            Loaded::Generated(message) => message.shape().type_name().to_owned(),
            Loaded::Compiled { messages, .. } => messages.type_name().to_owned(),
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
            Loaded::Compiled { files, .. } | Loaded::Dynamic { files, .. } => files,
        }
    }

    /// How many messages there are (sent in turn).
    pub fn count(&self) -> usize {
        match self {
            Loaded::Generated(_) => 1,
            Loaded::Compiled { messages, .. } => messages.count(),
            Loaded::Dynamic { messages, .. } => messages.len(),
        }
    }

    /// Each message and its Ack in `encoding`, in order. A dynamic
    /// message's maps have no order: its encoding is one of several equal
    /// ones.
    pub fn encoded(&self, encoding: Encoding) -> Vec<Encoded> {
        match self {
            Loaded::Generated(message) => vec![message.encoded(encoding)],
            Loaded::Compiled { messages, .. } => (0..messages.count() as u64)
                .map(|i| {
                    let protobuf = messages.down(i, Encoding::Protobuf);
                    let ack = Ack {
                        digest: fnv1a64(&protobuf),
                        message_bytes: protobuf.len() as u64,
                    };
                    Encoded {
                        message: messages.down(i, encoding),
                        ack: encode(&ack, encoding),
                    }
                })
                .collect(),
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
