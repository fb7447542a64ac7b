//! The message workload's flags, shared by `serve message`, `bench` and
//! `load`.

use std::path::PathBuf;

use clap::Args;
use wirebench_proto::message::MessageSource;

/// A message's schema and values beyond the built-in shapes, and
/// reflection for built-in shapes: the same flags on `serve message`,
/// `bench --workload message` and `load` (with each command's `--proto`
/// and data file, [`OwnMessageArgs`], [`super::LoadCmdArgs`]).
#[derive(Debug, Args, Clone, Default)]
pub struct MessageSchemaArgs {
    /// Message: folders where the .proto's imports are found (default: its
    /// own folder); repeatable.
    #[arg(long, requires = "proto", help_heading = "Message")]
    pub proto_path: Vec<PathBuf>,
    /// Message: the message of --proto to send, e.g. shop.v1.Order.
    #[arg(long, requires = "proto", help_heading = "Message")]
    pub message: Option<String>,
    /// Message: bytes in each generated string and bytes field.
    #[arg(long, default_value_t = 16, help_heading = "Message", value_parser = crate::numbers::whole::<usize>, allow_negative_numbers = true)]
    pub string_bytes: usize,
    /// Message: serve the built-in shapes through reflection
    /// (prost-reflect), to measure what reflection costs.
    #[arg(long, help_heading = "Message")]
    pub dynamic: bool,
}

impl MessageSchemaArgs {
    /// The user's message these flags name with `proto` (and values from
    /// `data`, or generated), or None for built-in shapes.
    pub fn source(
        &self,
        proto: Option<&PathBuf>,
        data: Option<&PathBuf>,
        seed: u64,
        items: Option<u32>,
    ) -> Option<MessageSource> {
        Some(MessageSource::Proto {
            proto: proto?.clone(),
            include: self.proto_path.clone(),
            message: self.message.clone().unwrap_or_default(),
            data: data.cloned(),
            seed,
            items: items.unwrap_or(3),
            string_bytes: self.string_bytes,
        })
    }
}

/// The user's own message on `serve message` and `bench`.
#[derive(Debug, Args, Clone, Default)]
pub struct OwnMessageArgs {
    /// Message: your own .proto file (compiled at start, no protoc needed).
    #[arg(long, requires = "message", help_heading = "Message")]
    pub proto: Option<PathBuf>,
    /// Message: the message's values from this file (JSON, or JSON Lines:
    /// one message per line, sent in turn), in the canonical proto3 JSON
    /// mapping; without it, values are generated from --seed.
    #[arg(
        long,
        visible_alias = "data-file",
        requires = "proto",
        help_heading = "Message"
    )]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub schema: MessageSchemaArgs,
}

impl OwnMessageArgs {
    /// The message source these flags name, or None for built-in shapes.
    pub fn source(&self, seed: u64, items: Option<u32>) -> Option<MessageSource> {
        self.schema
            .source(self.proto.as_ref(), self.data.as_ref(), seed, items)
    }
}
