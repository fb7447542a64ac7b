//! The gRPC length-prefixed messages of a response body, checked as they
//! stream in: gRPC's over HTTP/2, and gRPC-Web's, whose body ends with a
//! trailer frame (flag 0x80) that carries the status.

use std::time::Instant;

use wirebench_proto::vocab::Compression;

use crate::verify::BodyCheck;

/// Largest gRPC-Web trailer frame read (it holds a status and a message).
const TRAILER_LIMIT_BYTES: usize = 16 * 1024;

/// The gRPC length-prefixed messages of a response body, checked as they
/// stream in, each on its own, without being gathered: exactly one
/// (unary) or any number (a streaming answer, whose arrival times are
/// kept). A message flagged compressed is inflated as it streams, with
/// the call's `grpc-encoding`; an uncompressed one is checked as it is.
pub(crate) struct Frames<'a> {
    check: &'a BodyCheck,
    /// The message being read.
    verifier: Option<crate::verify::BodyVerifier<'a>>,
    streaming: bool,
    /// What the call negotiated; None: a compressed message is an error.
    compression: Option<Compression>,
    /// gRPC-Web: a trailer frame ends the body.
    web: bool,
    /// The trailer frame being read, then read.
    trailer: Option<Vec<u8>>,
    reading_trailer: bool,
    header: [u8; 5],
    have: usize,
    /// Message bytes still to come; None while reading a prefix.
    left: Option<usize>,
    messages: u32,
    message_bytes: u64,
    /// When each message was complete (streaming answers only).
    pub(crate) arrivals: Vec<Instant>,
    error: Option<String>,
}

impl<'a> Frames<'a> {
    pub(crate) fn new(check: &'a BodyCheck, streaming: bool) -> Self {
        Frames {
            check,
            verifier: None,
            streaming,
            compression: None,
            web: false,
            trailer: None,
            reading_trailer: false,
            header: [0; 5],
            have: 0,
            left: None,
            messages: 0,
            message_bytes: 0,
            arrivals: Vec::new(),
            error: None,
        }
    }

    /// Messages flagged compressed are in `compression`.
    pub(crate) fn compressed(mut self, compression: Option<Compression>) -> Self {
        self.compression = compression;
        self
    }

    /// A gRPC-Web body: messages, then the trailer frame.
    pub(crate) fn web(mut self) -> Self {
        self.web = true;
        self
    }

    pub(crate) fn feed(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() && self.error.is_none() {
            match self.left {
                None => {
                    let take = (5 - self.have).min(chunk.len());
                    self.header[self.have..self.have + take].copy_from_slice(&chunk[..take]);
                    self.have += take;
                    chunk = &chunk[take..];
                    if self.have == 5 {
                        self.have = 0;
                        self.frame_started();
                    }
                }
                Some(left) => {
                    let take = left.min(chunk.len());
                    if self.reading_trailer {
                        let trailer = self.trailer.get_or_insert_with(Vec::new);
                        trailer.extend_from_slice(&chunk[..take]);
                    } else if let Some(verifier) = &mut self.verifier {
                        verifier.feed(&chunk[..take]);
                    }
                    chunk = &chunk[take..];
                    self.left = Some(left - take);
                    if left == take {
                        self.frame_done();
                    }
                }
            }
        }
    }

    /// A frame's 5-byte prefix is read: what follows?
    fn frame_started(&mut self) {
        let flags = self.header[0];
        let len = u32::from_be_bytes(self.header[1..].try_into().expect("4 bytes")) as usize;
        if self.trailer.is_some() {
            self.error = Some("a frame after the trailer frame".into());
            return;
        }
        if flags & 0x80 != 0 {
            if !self.web {
                self.error = Some("a trailer frame (0x80) in a gRPC body".into());
            } else if len > TRAILER_LIMIT_BYTES {
                self.error = Some(format!("a trailer frame of {len} bytes"));
            }
            self.reading_trailer = true;
            self.trailer = Some(Vec::with_capacity(len));
            self.left = Some(len);
            if len == 0 {
                self.frame_done();
            }
            return;
        }
        self.messages += 1;
        if self.messages > 1 && !self.streaming {
            self.error = Some("more than one message in a unary answer".into());
            return;
        }
        self.verifier = Some(match (flags & 1, self.compression) {
            (0, _) => self.check.start(),
            (_, Some(compression)) => self.check.start_inflating(compression),
            (_, None) => {
                self.error = Some("compressed message (none was negotiated)".into());
                return;
            }
        });
        self.message_bytes += len as u64;
        self.left = Some(len);
        if len == 0 {
            self.frame_done();
        }
    }

    /// The frame being read is complete: check its message.
    fn frame_done(&mut self) {
        self.left = None;
        if self.reading_trailer {
            self.reading_trailer = false;
            return;
        }
        if let Some(verifier) = self.verifier.take()
            && let Err(why) = verifier.finish()
        {
            self.error = Some(match self.streaming {
                true => format!("answer message {}: {why}", self.messages),
                false => why,
            });
        }
        if self.streaming {
            self.arrivals.push(Instant::now());
        }
    }

    /// The answer's message bytes (as sent) when it was complete and
    /// right, and, for gRPC-Web, its trailer said OK.
    pub(crate) fn finish(self) -> Result<u64, String> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.left.is_some() || self.have > 0 {
            return Err("the answer ended inside a frame".into());
        }
        if self.web {
            let trailer = self.trailer.ok_or("no trailer frame (grpc-status)")?;
            web_status(&trailer)?;
        }
        if self.messages == 0 && !self.streaming {
            return Err("no message in the answer".into());
        }
        Ok(self.message_bytes)
    }
}

/// The status of a gRPC-Web trailer frame (`grpc-status: 0\r\n...`):
/// Ok for 0, else the code and message.
fn web_status(trailer: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(trailer);
    let field = |name: &str| {
        text.split("\r\n").find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    match field("grpc-status").as_deref() {
        Some("0") => Ok(()),
        Some(code) => Err(format!(
            "grpc-status {code}: {}",
            field("grpc-message").unwrap_or_default()
        )),
        None => Err("the trailer frame has no grpc-status".into()),
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use prost::Message;
    use wirebench_proto::payload::PayloadResponse;

    use super::*;

    fn framed(message: &[u8]) -> Vec<u8> {
        let mut frame = vec![0];
        frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
        frame.extend_from_slice(message);
        frame
    }

    #[test]
    fn frames_are_checked_in_any_chunking() {
        let message = PayloadResponse {
            data: Bytes::from(vec![b'x'; 3000]),
        }
        .encode_to_vec();
        let body = framed(&message);
        let check = BodyCheck::PayloadProto { len: 3000 };
        for size in [1, 2, 5, 7, 100, 4096] {
            let mut frames = Frames::new(&check, false);
            for chunk in body.chunks(size) {
                frames.feed(chunk);
            }
            assert_eq!(
                frames.finish(),
                Ok(message.len() as u64),
                "chunks of {size}"
            );
        }
        let mut twice = body.clone();
        twice.extend_from_slice(&body);
        let mut frames = Frames::new(&check, false);
        frames.feed(&twice);
        assert!(frames.finish().unwrap_err().contains("more than one"));
        let mut frames = Frames::new(&check, false);
        frames.feed(&body[..body.len() - 1]);
        assert!(frames.finish().unwrap_err().contains("inside a frame"));
        let mut compressed = body.clone();
        compressed[0] = 1;
        let mut frames = Frames::new(&check, false);
        frames.feed(&compressed);
        assert!(frames.finish().unwrap_err().contains("compressed"));
    }

    fn compressed_frame(message: &[u8], compression: Compression) -> Vec<u8> {
        let packed = crate::verify::compress(compression, message);
        let mut frame = vec![1];
        frame.extend_from_slice(&(packed.len() as u32).to_be_bytes());
        frame.extend_from_slice(&packed);
        frame
    }

    #[test]
    fn compressed_messages_are_inflated_and_checked() {
        let message = PayloadResponse {
            data: Bytes::from(vec![b'x'; 70_000]),
        }
        .encode_to_vec();
        let check = BodyCheck::PayloadProto { len: 70_000 };
        for compression in Compression::ALL {
            let body = compressed_frame(&message, compression);
            assert!(body.len() < 2_000, "{compression:?}: {}", body.len());
            for size in [1, 13, 4096] {
                let mut frames = Frames::new(&check, false).compressed(Some(compression));
                for chunk in body.chunks(size) {
                    frames.feed(chunk);
                }
                assert!(frames.finish().is_ok(), "{compression:?}, chunks of {size}");
            }
            let mut bad = message.clone();
            bad[5000] = b'y';
            let mut frames = Frames::new(&check, false).compressed(Some(compression));
            frames.feed(&compressed_frame(&bad, compression));
            assert!(frames.finish().unwrap_err().contains("wrong content"));
        }
    }

    #[test]
    fn a_grpc_web_body_ends_with_its_status() {
        let message = PayloadResponse {
            data: Bytes::from(vec![b'x'; 10]),
        }
        .encode_to_vec();
        let check = BodyCheck::PayloadProto { len: 10 };
        let trailer = |text: &str| {
            let mut frame = vec![0x80];
            frame.extend_from_slice(&(text.len() as u32).to_be_bytes());
            frame.extend_from_slice(text.as_bytes());
            frame
        };
        let mut good = framed(&message);
        good.extend_from_slice(&trailer("grpc-status:0\r\ngrpc-message:\r\n"));
        for size in [1, 3, 100] {
            let mut frames = Frames::new(&check, false).web();
            for chunk in good.chunks(size) {
                frames.feed(chunk);
            }
            assert_eq!(frames.finish(), Ok(message.len() as u64));
        }
        let mut failed = framed(&message);
        failed.extend_from_slice(&trailer("grpc-status: 8\r\ngrpc-message: too big\r\n"));
        let mut frames = Frames::new(&check, false).web();
        frames.feed(&failed);
        assert_eq!(frames.finish(), Err("grpc-status 8: too big".into()));
        let mut frames = Frames::new(&check, false).web();
        frames.feed(&framed(&message));
        assert!(frames.finish().unwrap_err().contains("no trailer"));
        let mut frames = Frames::new(&check, false);
        frames.feed(&good);
        assert!(frames.finish().unwrap_err().contains("trailer frame"));
    }

    #[test]
    fn a_streaming_answer_checks_each_message_and_keeps_its_arrival() {
        let message = PayloadResponse {
            data: Bytes::from(vec![b'x'; 100]),
        }
        .encode_to_vec();
        let check = BodyCheck::PayloadProto { len: 100 };
        let mut body = Vec::new();
        for _ in 0..3 {
            body.extend_from_slice(&framed(&message));
        }
        for size in [1, 7, 105, 4096] {
            let mut frames = Frames::new(&check, true);
            for chunk in body.chunks(size) {
                frames.feed(chunk);
            }
            assert_eq!(frames.arrivals.len(), 3, "chunks of {size}");
            assert_eq!(frames.finish(), Ok(3 * message.len() as u64));
        }
        // The second message is wrong: it is named.
        let mut wrong = framed(&message);
        let mut bad = message.clone();
        *bad.last_mut().unwrap() = b'y';
        wrong.extend_from_slice(&framed(&bad));
        let mut frames = Frames::new(&check, true);
        frames.feed(&wrong);
        let error = frames.finish().unwrap_err();
        assert!(error.starts_with("answer message 2:"), "{error}");
        // A server stream may be empty.
        assert_eq!(Frames::new(&check, true).finish(), Ok(0));
    }
}
