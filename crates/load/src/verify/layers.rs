//! What can wrap a body around the message a check knows: a compression
//! (HTTP `Content-Encoding`, a gRPC message flagged compressed) and
//! gRPC-Web's framing, binary or base64 text. Each layer unwraps as the
//! bytes stream in and feeds the check beneath, so a compressed 64 MiB
//! answer is verified without being gathered.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use wirebench_proto::vocab::Compression;

use super::BodyVerifier;
use super::frames::Frames;

/// Compresses `data` at the level every side uses ([`Compression::level`]).
pub fn compress(compression: Compression, data: &[u8]) -> Vec<u8> {
    match compression {
        Compression::Gzip => {
            let level = flate2::Compression::new(compression.level() as u32);
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
            encoder.write_all(data).expect("writing to a Vec");
            encoder.finish().expect("writing to a Vec")
        }
        Compression::Zstd => {
            zstd::bulk::compress(data, compression.level()).expect("zstd compresses any input")
        }
    }
}

/// A layer between the body and the check.
pub(super) enum Layer<'a> {
    Inflate(Inflate<'a>),
    GrpcWeb(WebBody<'a>),
}

impl std::fmt::Debug for Layer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layer::Inflate(inflate) => inflate.name,
            Layer::GrpcWeb(_) => "grpc-web",
        })
    }
}

impl Layer<'_> {
    pub(super) fn feed(&mut self, chunk: &[u8]) {
        match self {
            Layer::Inflate(inflate) => inflate.feed(chunk),
            Layer::GrpcWeb(web) => web.feed(chunk),
        }
    }

    pub(super) fn finish(self) -> Result<(), String> {
        match self {
            Layer::Inflate(inflate) => inflate.finish(),
            Layer::GrpcWeb(web) => web.finish(),
        }
    }
}

/// Hands inflated bytes to the check beneath.
pub(super) struct Feed<'a>(BodyVerifier<'a>);

impl Write for Feed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.feed(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Inflates a gzip or zstd stream into the check beneath.
pub(super) struct Inflate<'a> {
    decoder: Decoder<'a>,
    name: &'static str,
    error: Option<String>,
}

enum Decoder<'a> {
    Gzip(flate2::write::GzDecoder<Feed<'a>>),
    Zstd(zstd::stream::write::Decoder<'static, Feed<'a>>),
}

impl<'a> Inflate<'a> {
    pub(super) fn new(compression: Compression, inner: BodyVerifier<'a>) -> Inflate<'a> {
        let decoder = match compression {
            Compression::Gzip => Decoder::Gzip(flate2::write::GzDecoder::new(Feed(inner))),
            Compression::Zstd => Decoder::Zstd(
                zstd::stream::write::Decoder::new(Feed(inner)).expect("a zstd context"),
            ),
        };
        Inflate {
            decoder,
            name: compression.name(),
            error: None,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        if self.error.is_some() {
            return;
        }
        let written = match &mut self.decoder {
            Decoder::Gzip(d) => d.write_all(chunk),
            Decoder::Zstd(d) => d.write_all(chunk),
        };
        if let Err(err) = written {
            self.error = Some(format!("not a {} stream: {err}", self.name));
        }
    }

    fn finish(self) -> Result<(), String> {
        if let Some(error) = self.error {
            return Err(error);
        }
        let name = self.name;
        let inner = match self.decoder {
            Decoder::Gzip(d) => d.finish().map(|feed| feed.0),
            Decoder::Zstd(mut d) => d.flush().map(|()| d.into_inner().0),
        }
        .map_err(|err| format!("the {name} stream: {err}"))?;
        inner.finish()
    }
}

/// A gRPC-Web body: its frames, in base64 for `grpc-web-text`. The text
/// form may be several base64 runs back to back, each padded (a server
/// encodes frame by frame), so it is decoded a padded run at a time.
pub(super) struct WebBody<'a> {
    frames: Frames<'a>,
    /// grpc-web-text: base64 characters not yet decoded (less than a
    /// 4-character group, between chunks).
    text: Option<Vec<u8>>,
    decoded: Vec<u8>,
    error: Option<String>,
}

impl<'a> WebBody<'a> {
    pub(super) fn new(frames: Frames<'a>, text: bool) -> WebBody<'a> {
        WebBody {
            frames,
            text: text.then(Vec::new),
            decoded: Vec::new(),
            error: None,
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        let Some(pending) = &mut self.text else {
            self.frames.feed(chunk);
            return;
        };
        if self.error.is_some() {
            return;
        }
        pending.extend(chunk.iter().filter(|b| !b.is_ascii_whitespace()));
        let whole = pending.len() / 4 * 4;
        let mut start = 0;
        let mut group = 0;
        while group < whole {
            let end = group + 4;
            if pending[end - 1] == b'=' || end == whole {
                self.decoded.resize((end - start) / 4 * 3, 0);
                match STANDARD.decode_slice(&pending[start..end], &mut self.decoded) {
                    Ok(n) => self.frames.feed(&self.decoded[..n]),
                    Err(err) => {
                        self.error = Some(format!("grpc-web-text: not base64: {err}"));
                        return;
                    }
                }
                start = end;
            }
            group = end;
        }
        pending.drain(..whole);
    }

    fn finish(self) -> Result<(), String> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.text.as_ref().is_some_and(|rest| !rest.is_empty()) {
            return Err("grpc-web-text: the base64 ends inside a group".into());
        }
        self.frames.finish().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use bytes::Bytes;
    use wirebench_proto::vocab::Compression;

    use crate::verify::BodyCheck;

    fn payload_json(n: usize) -> Vec<u8> {
        format!("{{\"data\":\"{}\"}}", "x".repeat(n)).into_bytes()
    }

    #[test]
    fn a_compressed_body_is_inflated_in_any_chunking_and_a_plain_one_refused() {
        let body = payload_json(50_000);
        for compression in Compression::ALL {
            let check = BodyCheck::Compressed {
                inner: Box::new(BodyCheck::PayloadJson { len: 50_000 }),
                compression,
            };
            let packed = super::compress(compression, &body);
            for size in [1, 7, 512, 100_000] {
                let mut verifier = check.start();
                for chunk in packed.chunks(size) {
                    verifier.feed(chunk);
                }
                assert_eq!(
                    verifier.finish(),
                    Ok(()),
                    "{compression:?}, chunks of {size}"
                );
            }
            let plain = check.verify(&body).unwrap_err();
            assert!(plain.contains(compression.name()), "{plain}");
            let short = check.verify(&packed[..packed.len() / 2]).unwrap_err();
            assert!(!short.is_empty());
        }
    }

    #[test]
    fn grpc_web_text_is_decoded_across_padded_runs_and_chunks() {
        let message = Bytes::from_static(b"\x0a\x03xxx");
        let mut frame = vec![0, 0, 0, 0, message.len() as u8];
        frame.extend_from_slice(&message);
        let trailer = b"grpc-status: 0\r\n";
        let mut trailer_frame = vec![0x80, 0, 0, 0, trailer.len() as u8];
        trailer_frame.extend_from_slice(trailer);
        // Each frame in its own padded base64 run, as servers send them.
        let b64 = base64::engine::general_purpose::STANDARD;
        let text = format!("{}{}", b64.encode(&frame), b64.encode(&trailer_frame));
        assert!(
            text[..text.len() - 4].contains('='),
            "a padded run mid-body"
        );
        let check = BodyCheck::GrpcWeb {
            inner: Box::new(BodyCheck::PayloadProto { len: 3 }),
            text: true,
            compression: None,
        };
        for size in 1..=9 {
            let mut verifier = check.start();
            for chunk in text.as_bytes().chunks(size) {
                verifier.feed(chunk);
            }
            assert_eq!(verifier.finish(), Ok(()), "chunks of {size}");
        }
        assert!(check.verify(b"!!!!").unwrap_err().contains("base64"));
        assert!(check.verify(&text.as_bytes()[..text.len() - 1]).is_err());
    }
}
