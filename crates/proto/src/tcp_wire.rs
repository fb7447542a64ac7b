//! The `tcp` stack's wire format, shared by its servers and its client: the
//! ceiling, so nothing is on the wire but a length and the bytes.
//!
//! A frame is a 4-byte big-endian length, then that many bytes. A request
//! is one frame: for the payload service, `size_in_kb` as 8 bytes
//! little-endian; for the pipeline, the protobuf request of the role asked
//! (`GenerateRequest`, `ProcessRequest`, `AggregateRequest`). An answer is
//! one frame: the payload bytes, or the protobuf answer. A connection
//! carries one request at a time.
//!
//! A request that fails gets the length [`ERROR_MARK`], then one frame
//! holding the gRPC status code of the failure (1 byte: 3 invalid
//! argument, 8 too large, 14 unavailable, 13 bad upstream) and a UTF-8
//! message; then the server closes the connection.

/// The answer length that marks an error.
pub const ERROR_MARK: u32 = u32::MAX;
/// Longest request a server reads; longer is refused unread.
pub const MAX_REQUEST_BYTES: u32 = 64;
/// Longest error message a client reads.
pub const MAX_ERROR_BYTES: u32 = 64 * 1024;

/// `body` with its length in front.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let len = u32::try_from(body.len()).expect("a frame is under 4 GiB");
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A protobuf message with its length in front, encoded in place.
pub fn frame_message(message: &impl prost::Message) -> Vec<u8> {
    let len = u32::try_from(message.encoded_len()).expect("a frame is under 4 GiB");
    let mut out = Vec::with_capacity(4 + len as usize);
    out.extend_from_slice(&len.to_be_bytes());
    message
        .encode(&mut out)
        .expect("the buffer has room for the message");
    out
}

/// The whole error answer: the mark, then the code and message framed.
pub fn error_answer(code: u8, message: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(1 + message.len());
    body.push(code);
    body.extend_from_slice(message.as_bytes());
    let mut out = ERROR_MARK.to_be_bytes().to_vec();
    out.extend_from_slice(&frame(&body));
    out
}

/// The code and message of an error frame's body.
pub fn parse_error(body: &[u8]) -> (u8, String) {
    match body.split_first() {
        Some((code, message)) => (*code, String::from_utf8_lossy(message).into_owned()),
        None => (0, String::new()),
    }
}

/// The payload service's request: `size_in_kb`, framed.
pub fn payload_request(size_in_kb: i64) -> Vec<u8> {
    frame(&size_in_kb.to_le_bytes())
}

/// `size_in_kb` from a payload request's body.
pub fn decode_payload_request(body: &[u8]) -> Result<i64, String> {
    let bytes: [u8; 8] = body
        .try_into()
        .map_err(|_| format!("a payload request is 8 bytes, got {}", body.len()))?;
    Ok(i64::from_le_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_errors_round_trip() {
        assert_eq!(frame(b"ab"), [0, 0, 0, 2, b'a', b'b']);
        let request = crate::pipeline::AggregateRequest { records: 100 };
        assert_eq!(
            frame_message(&request),
            frame(&prost::Message::encode_to_vec(&request))
        );
        let answer = error_answer(14, "producer is down");
        assert_eq!(answer[..4], ERROR_MARK.to_be_bytes());
        assert_eq!(u32::from_be_bytes(answer[4..8].try_into().unwrap()), 17);
        assert_eq!(parse_error(&answer[8..]), (14, "producer is down".into()));
        let request = payload_request(512);
        assert_eq!(decode_payload_request(&request[4..]), Ok(512));
        assert!(decode_payload_request(b"short").is_err());
    }
}
