//! The gRPC length-prefixed messages of a response body, checked as they
//! stream in.

use std::time::Instant;

use crate::verify::BodyCheck;

/// The gRPC length-prefixed messages of a response body, checked as they
/// stream in, each on its own, without being gathered: exactly one
/// (unary) or any number (a streaming answer, whose arrival times are
/// kept), uncompressed.
pub(super) struct Frames<'a> {
    check: &'a BodyCheck,
    /// The message being read.
    verifier: Option<crate::verify::BodyVerifier<'a>>,
    streaming: bool,
    header: [u8; 5],
    have: usize,
    /// Message bytes still to come; None while reading a prefix.
    left: Option<usize>,
    messages: u32,
    message_bytes: u64,
    /// When each message was complete (streaming answers only).
    pub(super) arrivals: Vec<Instant>,
    error: Option<String>,
}

impl<'a> Frames<'a> {
    pub(super) fn new(check: &'a BodyCheck, streaming: bool) -> Self {
        Frames {
            check,
            verifier: None,
            streaming,
            header: [0; 5],
            have: 0,
            left: None,
            messages: 0,
            message_bytes: 0,
            arrivals: Vec::new(),
            error: None,
        }
    }

    pub(super) fn feed(&mut self, mut chunk: &[u8]) {
        while !chunk.is_empty() && self.error.is_none() {
            match self.left {
                None => {
                    let take = (5 - self.have).min(chunk.len());
                    self.header[self.have..self.have + take].copy_from_slice(&chunk[..take]);
                    self.have += take;
                    chunk = &chunk[take..];
                    if self.have == 5 {
                        self.have = 0;
                        self.messages += 1;
                        if self.header[0] != 0 {
                            self.error =
                                Some("compressed message (wirebench asks for none)".into());
                        } else if self.messages > 1 && !self.streaming {
                            self.error = Some("more than one message in a unary answer".into());
                        }
                        let len = u32::from_be_bytes(self.header[1..].try_into().expect("4 bytes"))
                            as usize;
                        self.message_bytes += len as u64;
                        self.verifier = Some(self.check.start());
                        self.left = Some(len);
                        if len == 0 {
                            self.message_done();
                        }
                    }
                }
                Some(left) => {
                    let take = left.min(chunk.len());
                    if let Some(verifier) = &mut self.verifier {
                        verifier.feed(&chunk[..take]);
                    }
                    chunk = &chunk[take..];
                    self.left = Some(left - take);
                    if left == take {
                        self.message_done();
                    }
                }
            }
        }
    }

    /// The message being read is complete: check it.
    fn message_done(&mut self) {
        self.left = None;
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

    /// The answer's message bytes when it was complete and right.
    pub(super) fn finish(self) -> Result<u64, String> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.messages == 0 && !self.streaming {
            return Err("no message in the answer".into());
        }
        if self.left.is_some() || self.have > 0 {
            return Err("the answer ended inside a message".into());
        }
        Ok(self.message_bytes)
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
        assert!(frames.finish().unwrap_err().contains("inside a message"));
        let mut compressed = body.clone();
        compressed[0] = 1;
        let mut frames = Frames::new(&check, false);
        frames.feed(&compressed);
        assert!(frames.finish().unwrap_err().contains("compressed"));
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
