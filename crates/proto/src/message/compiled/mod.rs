//! The user's schema, compiled: served with the code a production server
//! would have, not through reflection.
//!
//! A `.proto` named at run time cannot be compiled into wirebench, and
//! prost-reflect's dynamic messages cost 2-11x what generated code costs
//! (enough to flip a verdict). So wirebench writes a small crate for the
//! schema, with prost-build and pbjson-build configured exactly as
//! `build.rs` configures them for the built-in shapes, builds it with
//! cargo as a `cdylib`, caches it by the schema's hash and loads it with
//! `libloading`. Its C ABI is three calls, `down`, `up` and `echo` over
//! bytes ([`template/abi.rs`]), so the server's handler and the load
//! generator keep one code path: a built-in shape is only a schema that
//! ships compiled. `docs/architecture.md` says why this and not a
//! generated server binary.
//!
//! Where no cargo can be had, [`CodegenError::NoCargo`], the caller falls
//! back to dynamic messages and says so.

mod cache;
mod generate;
mod library;

use std::fmt;
use std::str::FromStr;

use prost::Message;
use prost_reflect::DynamicMessage;

pub use cache::{key, library_path, schemas_dir};
pub use library::CompiledMessages;

use crate::vocab::UnknownName;

/// How a message's code is had: generated and compiled (as a production
/// server has it), or reflection over descriptors at run time (as
/// grpc-gateway or Envoy's JSON transcoder have it).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Codegen {
    #[default]
    Compiled,
    Dynamic,
}

impl Codegen {
    pub const ALL: [Codegen; 2] = [Codegen::Compiled, Codegen::Dynamic];

    pub fn name(self) -> &'static str {
        match self {
            Codegen::Compiled => "compiled",
            Codegen::Dynamic => "dynamic",
        }
    }
}

impl fmt::Display for Codegen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Codegen {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Codegen::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| UnknownName {
                what: "codegen",
                got: s.to_owned(),
                expected: "compiled, dynamic".to_owned(),
            })
    }
}

/// Why a schema could not be had compiled.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// No cargo to build with: the caller falls back to dynamic messages.
    #[error("no cargo to compile the schema with ({why})")]
    NoCargo { why: String },
    #[error("generating the schema's Rust code failed at {step}: {why}")]
    Generate { step: &'static str, why: String },
    #[error("building the schema's Rust code failed (cargo build):\n{first_error}")]
    Build { first_error: String },
    #[error("loading the compiled schema {path} failed: {why}")]
    Load { path: String, why: String },
    #[error("the schema cache {path}: {why}")]
    Cache { path: String, why: String },
}

/// `messages` (all of one type, never empty) as that type's generated
/// code: the schema `files` built (or found in the cache) and loaded.
/// `schema` names it in progress lines ("shop.proto").
pub fn compile(
    files: &[u8],
    schema: &str,
    messages: &[DynamicMessage],
) -> Result<CompiledMessages, CodegenError> {
    let path = cache::library_path(files, schema)?;
    let type_name = prost_reflect::ReflectMessage::descriptor(&messages[0])
        .full_name()
        .to_owned();
    let encoded: Vec<Vec<u8>> = messages.iter().map(Message::encode_to_vec).collect();
    CompiledMessages::open(&path, &type_name, &encoded)
}
