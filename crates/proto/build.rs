//! Compiles every contract in `proto/` with protox (pure Rust, so no system
//! `protoc` is needed) and generates prost messages plus tonic clients and
//! servers. The encoded descriptor set is kept for gRPC server reflection.

use std::path::PathBuf;

use prost::Message;

const PIPELINE_MESSAGES: [&str; 9] = [
    "GenerateRequest",
    "SeriesRequest",
    "Record",
    "RecordBatch",
    "ProcessRequest",
    "ProcessedRecord",
    "ProcessedBatch",
    "AggregateRequest",
    "Summary",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = ["payload.proto", "services.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={}", proto_dir.join(file).display());
    }
    let descriptors = protox::compile(files, [&proto_dir])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("descriptors.bin"), descriptors.encode_to_vec())?;
    let mut config = tonic_prost_build::configure()
        // `bytes` fields as `Bytes`: the payload is handed to the encoder
        // without another copy, and the client can verify it in place.
        .bytes(".");
    // The pipeline's messages are also its REST bodies: serde with the same
    // field names, so both stacks carry identical fields.
    for message in PIPELINE_MESSAGES {
        config = config.type_attribute(
            format!(".{message}"),
            "#[derive(serde::Serialize, serde::Deserialize)] #[serde(default)]",
        );
    }
    // The payload service with tonic's `ProstCodec`; the pipeline's
    // messages here, its services below with `RecordsCodec`.
    config
        .clone()
        .compile_fds(protox::compile(["payload.proto"], [&proto_dir])?)?;
    config
        .build_client(false)
        .build_server(false)
        .compile_fds(protox::compile(["services.proto"], [&proto_dir])?)?;
    let records_dir = out_dir.join("records");
    std::fs::create_dir_all(&records_dir)?;
    let mut config = tonic_prost_build::configure()
        .out_dir(&records_dir)
        .codec_path("crate::records_codec::RecordsCodec");
    for message in PIPELINE_MESSAGES {
        config = config.extern_path(format!(".{message}"), format!("crate::pipeline::{message}"));
    }
    config.compile_fds(protox::compile(["services.proto"], [&proto_dir])?)?;

    // The payload service again, with the JSON codec of the grpc-json stack
    // (messages are the ones generated above).
    let json_dir = out_dir.join("json");
    std::fs::create_dir_all(&json_dir)?;
    tonic_prost_build::configure()
        .out_dir(&json_dir)
        .extern_path(".payload", "crate::payload")
        .codec_path("crate::json_codec::JsonCodec")
        .compile_fds(protox::compile(["payload.proto"], [&proto_dir])?)?;
    // And the pipeline's services, for the pipeline over grpc-json. The
    // file has no package, so each message is mapped by its own name.
    let mut config = tonic_prost_build::configure()
        .out_dir(&json_dir)
        .codec_path("crate::json_codec::JsonCodec");
    for message in PIPELINE_MESSAGES {
        config = config.extern_path(format!(".{message}"), format!("crate::pipeline::{message}"));
    }
    config.compile_fds(protox::compile(["services.proto"], [&proto_dir])?)?;

    // The message workload: the built-in shapes and the message service's
    // own types. prost messages (maps as BTreeMap, so an encoding is the
    // same every time and a client can check answers byte for byte), and
    // pbjson's serde impls: the canonical proto3 JSON mapping, with
    // pbjson-types' well-known types (RFC 3339 timestamps).
    let files = ["shapes.proto", "message.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={}", proto_dir.join(file).display());
    }
    let shapes = protox::compile(files, [&proto_dir])?;
    std::fs::write(
        out_dir.join("shapes_descriptors.bin"),
        shapes.encode_to_vec(),
    )?;
    // Timestamp is our own: pbjson-types writes "+00:00" where the mapping
    // says "Z" (and 0, 3, 6 or 9 fractional digits).
    prost_build::Config::new()
        .compile_well_known_types()
        .extern_path(".google.protobuf.Timestamp", "crate::message::Timestamp")
        .extern_path(".google.protobuf", "::pbjson_types")
        .btree_map(["."])
        .compile_fds(shapes.clone())?;
    pbjson_build::Builder::new()
        .register_descriptors(&shapes.encode_to_vec())?
        .extern_path(".google.protobuf.Timestamp", "crate::message::Timestamp")
        .btree_map(["."])
        .build(&[".wirebench"])?;
    Ok(())
}
