//! What travels on a pipeline hop, as types: a [`HopRequest`] asks the next
//! service for N records, its [`HopAnswer`] carries them back (or, on a
//! stream, the one request's failure). The server crate's hops are generic
//! over these two traits, so one hop implementation carries both hops
//! (processor -> producer, aggregator -> processor) on every stack.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::json_codec::JsonMessage;
use crate::pipeline::{
    GenerateRequest, ProcessRequest, ProcessedBatch, ProcessedRecord, Record, RecordBatch,
};

/// A request to the next service: which records, and on a stream the id
/// its answer will carry.
pub trait HopRequest: prost::Message + Default + JsonMessage + Clone + 'static {
    /// The batch that answers it.
    type Answer: HopAnswer;
    /// The unary method, `/ProducerService/Generate`.
    const UNARY_PATH: &'static str;
    /// The bidirectional-stream method, `/ProducerService/GenerateStream`.
    const STREAM_PATH: &'static str;
    /// The REST route of the next service, `/generate`.
    const ROUTE: &'static str;

    fn new(request_id: u64, records: u32) -> Self;
    fn request_id(&self) -> u64;
    fn set_request_id(&mut self, id: u64);
    fn records(&self) -> u32;
}

/// A batch of records from the next service.
pub trait HopAnswer:
    prost::Message + Default + JsonMessage + Serialize + DeserializeOwned + 'static
{
    type Item: Send + 'static;

    fn new(request_id: u64, items: Vec<Self::Item>) -> Self;
    /// The answer to one failed request on a stream: the stream lives on.
    fn failed(request_id: u64, code: i32, error: String) -> Self;
    fn request_id(&self) -> u64;
    /// The records, or the failure the next service reported in the batch:
    /// its gRPC status code and message.
    fn into_items(self) -> Result<Vec<Self::Item>, (i32, String)>;
}

/// The two hops have messages with the same fields; only their types and
/// paths differ. Field access on generated structs is what neither a trait
/// nor a generic can write, so this one macro does, once per hop.
macro_rules! hop_messages {
    ($request:ty, $answer:ty, $item:ty, $service:literal, $method:literal, $route:literal) => {
        impl HopRequest for $request {
            type Answer = $answer;
            const UNARY_PATH: &'static str = concat!("/", $service, "/", $method);
            const STREAM_PATH: &'static str = concat!("/", $service, "/", $method, "Stream");
            const ROUTE: &'static str = $route;

            fn new(request_id: u64, records: u32) -> Self {
                Self {
                    request_id,
                    records,
                }
            }
            fn request_id(&self) -> u64 {
                self.request_id
            }
            fn set_request_id(&mut self, id: u64) {
                self.request_id = id;
            }
            fn records(&self) -> u32 {
                self.records
            }
        }

        impl HopAnswer for $answer {
            type Item = $item;

            fn new(request_id: u64, records: Vec<$item>) -> Self {
                Self {
                    request_id,
                    records,
                    error: String::new(),
                    error_code: 0,
                }
            }
            fn failed(request_id: u64, error_code: i32, error: String) -> Self {
                Self {
                    request_id,
                    records: Vec::new(),
                    error,
                    error_code,
                }
            }
            fn request_id(&self) -> u64 {
                self.request_id
            }
            fn into_items(self) -> Result<Vec<$item>, (i32, String)> {
                if self.error.is_empty() {
                    Ok(self.records)
                } else {
                    Err((self.error_code, self.error))
                }
            }
        }
    };
}

hop_messages!(
    GenerateRequest,
    RecordBatch,
    Record,
    "ProducerService",
    "Generate",
    "/generate"
);
hop_messages!(
    ProcessRequest,
    ProcessedBatch,
    ProcessedRecord,
    "ProcessorService",
    "Process",
    "/process"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_the_generated_services() {
        assert_eq!(GenerateRequest::UNARY_PATH, "/ProducerService/Generate");
        assert_eq!(
            ProcessRequest::STREAM_PATH,
            "/ProcessorService/ProcessStream"
        );
        let failed = RecordBatch::failed(7, 14, "gone".into());
        assert_eq!(failed.request_id(), 7);
        assert_eq!(failed.into_items(), Err((14, "gone".to_owned())));
        assert_eq!(
            ProcessedBatch::new(1, Vec::new()).into_items(),
            Ok(Vec::new())
        );
    }
}
