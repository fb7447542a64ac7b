//! ghz-style dynamic calls: any method of any gRPC service, described
//! either by the server's reflection service or by a `.proto` file (compiled
//! at run time with protox, so no protoc), with the request given as JSON.
//! The request is encoded once; answers are checked by decoding them as the
//! method's output type. A streaming method says how it streams; the
//! caller decides how many messages a call sends ([`crate::Streaming`]).

use std::collections::HashSet;
use std::path::Path;

use bytes::Bytes;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor};
use tonic::transport::Channel;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

/// A resolved dynamic call: what to send and how to read the answer.
#[derive(Debug, Clone)]
pub struct DynamicCall {
    /// `/package.Service/Method`.
    pub path: http::uri::PathAndQuery,
    /// The request, encoded once.
    pub request: Bytes,
    pub input: MessageDescriptor,
    pub output: MessageDescriptor,
    /// The client sends a stream (client streaming, bidi).
    pub client_streaming: bool,
    /// The server answers with a stream (server streaming, bidi).
    pub server_streaming: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DynamicError {
    #[error("'{0}' is not a method: use Service/Method or package.Service.Method")]
    BadName(String),
    #[error("cannot read {path}: {why}")]
    Proto { path: String, why: String },
    #[error("reflection failed: {0}; give --proto FILE instead")]
    Reflection(String),
    #[error("no method {0} (known services: {1})")]
    NoMethod(String, String),
    #[error("-d is not a {message}: {why}")]
    Data { message: String, why: String },
}

/// Splits "pkg.Service/Method", "pkg.Service.Method" or "Service/Method"
/// into (service, method).
pub fn split_call(call: &str) -> Result<(String, String), DynamicError> {
    let call = call.trim_start_matches('/');
    let (service, method) = match call.split_once('/') {
        Some(pair) => pair,
        None => call
            .rsplit_once('.')
            .ok_or_else(|| DynamicError::BadName(call.to_owned()))?,
    };
    if service.is_empty() || method.is_empty() {
        return Err(DynamicError::BadName(call.to_owned()));
    }
    Ok((service.to_owned(), method.to_owned()))
}

/// Descriptors from a .proto file (its folder is the import path).
pub fn pool_from_proto(path: &Path) -> Result<DescriptorPool, DynamicError> {
    let bad = |why: String| DynamicError::Proto {
        path: path.display().to_string(),
        why,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file = path.file_name().ok_or_else(|| bad("not a file".into()))?;
    let set = protox::compile([file], [dir]).map_err(|err| bad(err.to_string()))?;
    DescriptorPool::from_file_descriptor_set(set).map_err(|err| bad(err.to_string()))
}

/// Descriptors of `service` (and everything it imports) from the server's
/// reflection service.
pub async fn pool_from_reflection(
    channel: Channel,
    service: &str,
) -> Result<DescriptorPool, DynamicError> {
    let mut client = ServerReflectionClient::new(channel);
    let mut files: Vec<prost_types::FileDescriptorProto> = Vec::new();
    let mut seen = HashSet::new();
    let mut queue = vec![MessageRequest::FileContainingSymbol(service.to_owned())];
    while let Some(request) = queue.pop() {
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(request),
        };
        let mut answers = client
            .server_reflection_info(tokio_stream::once(request))
            .await
            .map_err(|status| DynamicError::Reflection(status.message().to_owned()))?
            .into_inner();
        let answer = answers
            .message()
            .await
            .map_err(|status| DynamicError::Reflection(status.message().to_owned()))?
            .and_then(|a| a.message_response)
            .ok_or_else(|| DynamicError::Reflection("empty answer".into()))?;
        let encoded = match answer {
            MessageResponse::FileDescriptorResponse(r) => r.file_descriptor_proto,
            MessageResponse::ErrorResponse(e) => {
                return Err(DynamicError::Reflection(e.error_message));
            }
            _ => return Err(DynamicError::Reflection("unexpected answer".into())),
        };
        for bytes in encoded {
            let file = prost_types::FileDescriptorProto::decode(bytes.as_slice())
                .map_err(|err| DynamicError::Reflection(err.to_string()))?;
            if seen.insert(file.name().to_owned()) {
                for dependency in &file.dependency {
                    if !seen.contains(dependency) {
                        queue.push(MessageRequest::FileByFilename(dependency.clone()));
                    }
                }
                files.push(file);
            }
        }
    }
    let mut pool = DescriptorPool::new();
    // Dependencies before the files that import them.
    while !files.is_empty() {
        let before = files.len();
        let mut i = 0;
        while i < files.len() {
            let ready = files[i]
                .dependency
                .iter()
                .all(|d| pool.get_file_by_name(d).is_some());
            if ready {
                let file = files.remove(i);
                pool.add_file_descriptor_proto(file)
                    .map_err(|err| DynamicError::Reflection(err.to_string()))?;
            } else {
                i += 1;
            }
        }
        if files.len() == before {
            return Err(DynamicError::Reflection(
                "the server's descriptors import files it does not serve".into(),
            ));
        }
    }
    Ok(pool)
}

/// Finds `service`/`method` in `pool` and encodes `json` as its request.
pub fn resolve(
    pool: &DescriptorPool,
    service: &str,
    method: &str,
    json: &str,
) -> Result<DynamicCall, DynamicError> {
    let name = format!("{service}/{method}");
    let known = || {
        pool.services()
            .map(|s| s.full_name().to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let method: MethodDescriptor = pool
        .get_service_by_name(service)
        .and_then(|s| s.methods().find(|m| m.name() == method))
        .ok_or_else(|| DynamicError::NoMethod(name.clone(), known()))?;
    let input = method.input();
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let request = DynamicMessage::deserialize(input.clone(), &mut deserializer).map_err(|err| {
        DynamicError::Data {
            message: input.full_name().to_owned(),
            why: err.to_string(),
        }
    })?;
    let path = format!("/{}/{}", method.parent_service().full_name(), method.name())
        .parse()
        .map_err(|_| DynamicError::BadName(name))?;
    Ok(DynamicCall {
        path,
        request: Bytes::from(request.encode_to_vec()),
        input,
        output: method.output(),
        client_streaming: method.is_client_streaming(),
        server_streaming: method.is_server_streaming(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_names_in_every_form() {
        for call in [
            "AggregatorService/Aggregate",
            "AggregatorService.Aggregate",
            "/AggregatorService/Aggregate",
        ] {
            assert_eq!(
                split_call(call).unwrap(),
                ("AggregatorService".to_owned(), "Aggregate".to_owned())
            );
        }
        assert_eq!(
            split_call("payload.PayloadService.GetLargePayload").unwrap(),
            (
                "payload.PayloadService".to_owned(),
                "GetLargePayload".to_owned()
            )
        );
        assert!(split_call("Aggregate").is_err());
    }

    #[test]
    fn requests_are_encoded_from_json() {
        let pool = DescriptorPool::decode(wirebench_proto::FILE_DESCRIPTOR_SET).unwrap();
        let call = resolve(
            &pool,
            "payload.PayloadService",
            "GetLargePayload",
            r#"{"size_in_kb": 3}"#,
        )
        .unwrap();
        assert_eq!(
            call.path.as_str(),
            "/payload.PayloadService/GetLargePayload"
        );
        let decoded = wirebench_proto::payload::PayloadRequest::decode(call.request).unwrap();
        assert_eq!(decoded.size_in_kb, 3);
        assert!(matches!(
            resolve(&pool, "payload.PayloadService", "Nope", "{}"),
            Err(DynamicError::NoMethod(..))
        ));
        let bidi = resolve(&pool, "ProducerService", "GenerateStream", "{}").unwrap();
        assert!(bidi.client_streaming && bidi.server_streaming);
        let series = resolve(&pool, "ProducerService", "GenerateSeries", "{}").unwrap();
        assert!(!series.client_streaming && series.server_streaming);
        let summarize = resolve(&pool, "AggregatorService", "Summarize", "{}").unwrap();
        assert!(summarize.client_streaming && !summarize.server_streaming);
        assert!(matches!(
            resolve(
                &pool,
                "AggregatorService",
                "Aggregate",
                r#"{"records": "many"}"#
            ),
            Err(DynamicError::Data { .. })
        ));
    }
}
