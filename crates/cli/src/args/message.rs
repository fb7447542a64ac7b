//! The message workload's flags, shared by `serve message`, `bench` and
//! `load`.

use std::path::PathBuf;

use clap::Args;
use wirebench_proto::message::MessageSource;
use wirebench_proto::message::compiled::Codegen;

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
    /// Message: how the message's code is had: compiled (generated prost
    /// and pbjson code; for --proto, built with cargo once and cached) or
    /// dynamic (prost-reflect, as reflection-based gateways have it).
    /// bench takes a list and makes it a factor: compiled,dynamic.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "compiled",
        help_heading = "Message"
    )]
    pub codegen: Vec<Codegen>,
}

impl MessageSchemaArgs {
    /// The one codegen of a command that serves or sends one message.
    pub fn one_codegen(&self) -> anyhow::Result<Codegen> {
        match self.codegen.as_slice() {
            [codegen] => Ok(*codegen),
            _ => anyhow::bail!("--codegen takes one value here (bench takes a list)"),
        }
    }

    /// The user's message these flags name with `proto` (and values from
    /// `data`, or generated), or None for built-in shapes; compiled (each
    /// command picks its codegen with [`MessageSource::with_codegen`]).
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
            codegen: Codegen::Compiled,
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

/// `source` as this machine can serve it ([`MessageSource::available`]):
/// the user's schema compiled now, once, or where no cargo can be had,
/// dynamic, with a warning that says what that costs.
pub fn available(source: &MessageSource) -> anyhow::Result<MessageSource> {
    let (source, fallback) = source.available()?;
    if let Some(why) = fallback {
        eprintln!("warning: {why}");
    }
    Ok(source)
}
