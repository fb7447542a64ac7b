//! The crate written for a schema: prost's messages and pbjson's serde
//! impls, generated with the very configuration `build.rs` gives the
//! built-in shapes (maps as `BTreeMap`, wirebench's own `Timestamp`,
//! pbjson-types for the other well-known types), wirebench's JSON codec
//! module verbatim, and the C ABI of [`template/abi.rs`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use heck::ToUpperCamelCase;
use prost::Message;
use prost_reflect::{DescriptorPool, MessageDescriptor};
use prost_types::FileDescriptorSet;

use super::CodegenError;

/// The files the crate is written from, besides the generated code: the
/// cache key covers every one.
pub(super) const TEMPLATE: [(&str, &str); 4] = [
    ("Cargo.toml", include_str!("template/Cargo.toml")),
    ("src/abi.rs", include_str!("template/abi.rs")),
    ("src/json.rs", include_str!("../../json/codec.rs")),
    ("src/timestamp.rs", include_str!("../timestamp.rs")),
];

/// wirebench's own lock file: the crate builds with the versions wirebench
/// was built with, which cargo therefore already has.
pub(super) const LOCK: &str = include_str!("../../../../../Cargo.lock");

/// Writes the crate `name` for the schema `files` (an encoded
/// `FileDescriptorSet`) into `dir`.
pub(super) fn write_crate(files: &[u8], name: &str, dir: &Path) -> Result<(), CodegenError> {
    let step = |step: &'static str| move |why: String| CodegenError::Generate { step, why };
    let set =
        FileDescriptorSet::decode(files).map_err(|e| step("reading the schema")(e.to_string()))?;
    let pool =
        DescriptorPool::decode(files).map_err(|e| step("reading the schema")(e.to_string()))?;
    let generated = dir.join("src/gen");
    std::fs::create_dir_all(&generated).map_err(|e| step("writing the crate")(e.to_string()))?;
    prost_build::Config::new()
        .out_dir(&generated)
        .compile_well_known_types()
        .extern_path(".google.protobuf.Timestamp", "crate::message::Timestamp")
        .extern_path(".google.protobuf", "::pbjson_types")
        .btree_map(["."])
        .compile_fds(set.clone())
        .map_err(|e| step("prost-build")(e.to_string()))?;
    let prefixes = serde_prefixes(&set);
    pbjson_build::Builder::new()
        .out_dir(&generated)
        .register_descriptors(files)
        .map_err(|e| step("pbjson-build")(e.to_string()))?
        .extern_path(".google.protobuf.Timestamp", "crate::message::Timestamp")
        .extern_path(".google.protobuf", "::pbjson_types")
        .btree_map(["."])
        .build(&prefixes)
        .map_err(|e| step("pbjson-build")(e.to_string()))?;
    let write = |path: &str, text: &str| {
        let path = dir.join(path);
        std::fs::write(&path, text)
            .map_err(|e| step("writing the crate")(format!("{}: {e}", path.display())))
    };
    for (path, text) in TEMPLATE {
        write(path, &text.replace("@NAME@", name))?;
    }
    write("Cargo.lock", LOCK)?;
    write("src/lib.rs", &lib_rs(&pool, &generated)?)
}

/// pbjson's prefixes: every package but the well-known types' (each
/// top-level type of a file without a package).
fn serde_prefixes(set: &FileDescriptorSet) -> Vec<String> {
    let mut prefixes: Vec<String> = Vec::new();
    for file in &set.file {
        let names: Vec<String> = match file.package() {
            "google.protobuf" => continue,
            "" => file
                .message_type
                .iter()
                .map(|m| m.name().to_owned())
                .chain(file.enum_type.iter().map(|e| e.name().to_owned()))
                .collect(),
            package => vec![package.to_owned()],
        };
        for name in names {
            let prefix = format!(".{name}");
            if !prefixes.contains(&prefix) {
                prefixes.push(prefix);
            }
        }
    }
    prefixes
}

/// The crate's root: the modules of the generated packages, and the one
/// function the ABI calls, which opens any message type of the schema.
fn lib_rs(pool: &DescriptorPool, generated: &Path) -> Result<String, CodegenError> {
    // prost writes a package to "a.b.rs" ("_.rs" without one), pbjson to
    // "a.b.serde.rs"; nested modules, as prost's own include file has them.
    #[derive(Default)]
    struct Module {
        files: Vec<String>,
        children: BTreeMap<String, Module>,
    }
    let mut root = Module::default();
    let listing = std::fs::read_dir(generated).map_err(|e| CodegenError::Generate {
        step: "writing the crate",
        why: e.to_string(),
    })?;
    let mut names: Vec<String> = listing
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for file in names {
        let package = file
            .strip_suffix(".serde.rs")
            .or_else(|| file.strip_suffix(".rs"));
        let Some(package) = package else { continue };
        if package.starts_with("google.") {
            continue;
        }
        let mut module = &mut root;
        if package != "_" {
            for part in prost_build::Module::from_protobuf_package_name(package).parts() {
                module = module.children.entry(part.to_owned()).or_default();
            }
        }
        module.files.push(file);
    }
    fn emit(module: &Module, depth: usize, out: &mut String) {
        let indent = "    ".repeat(depth);
        for file in &module.files {
            let _ = writeln!(out, "{indent}include!(\"gen/{file}\");");
        }
        for (name, child) in &module.children {
            let _ = writeln!(out, "{indent}pub mod {name} {{");
            emit(child, depth + 1, out);
            let _ = writeln!(out, "{indent}}}");
        }
    }
    let mut tree = String::new();
    emit(&root, 1, &mut tree);
    let mut arms = String::new();
    for message in pool.all_messages() {
        if message.is_map_entry() || message.package_name().starts_with("google.protobuf") {
            continue;
        }
        let _ = writeln!(
            arms,
            "        {:?} => abi::typed::<{}>(messages),",
            message.full_name(),
            rust_path(&message)
        );
    }
    Ok(format!(
        r#"//! Written by wirebench: a schema's messages as prost and pbjson code,
//! served through the C ABI of `abi.rs`.
#![allow(warnings, clippy::all)]

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod abi;
mod json;
mod timestamp;

/// Where the generated code finds `Timestamp`, as in wirebench.
pub mod message {{
    pub use crate::timestamp::Timestamp;
}}

pub mod schema {{
{tree}}}

/// The messages (protobuf) of `type_name`, as its generated type.
pub(crate) fn served(type_name: &str, messages: &[&[u8]]) -> Result<Box<dyn abi::Serve>, String> {{
    match type_name {{
{arms}        other => Err(format!("no message {{other}} in this schema")),
    }}
}}
"#
    ))
}

/// The generated type's path: `schema::shop::v1::order::Line` for
/// `shop.v1.Order.Line`, named as prost names it.
fn rust_path(message: &MessageDescriptor) -> String {
    let mut parts = vec!["schema".to_owned()];
    parts.extend(
        prost_build::Module::from_protobuf_package_name(message.package_name())
            .parts()
            .map(str::to_owned),
    );
    let mut outer = Vec::new();
    let mut parent = message.parent_message();
    while let Some(p) = parent {
        outer.push(p.name().to_owned());
        parent = p.parent_message();
    }
    for name in outer.iter().rev() {
        parts.extend(
            prost_build::Module::from_protobuf_package_name(name)
                .parts()
                .map(str::to_owned),
        );
    }
    let ident = message.name().to_upper_camel_case();
    parts.push(if ident == "Self" {
        "Self_".to_owned()
    } else {
        ident
    });
    parts.join("::")
}
