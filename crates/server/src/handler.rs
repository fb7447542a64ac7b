//! The work behind every stack: build the payload of seed 000, echo a
//! message. Adapters call these functions and only translate the result.
//!
//! Each call builds a fresh buffer (no response caching): producing and
//! serializing the response is part of what a request costs, as in the seed.
//! Sizes are checked against the configured limit *before* anything is
//! allocated, so no request can make the server allocate without bound.

use bytes::Bytes;

/// The byte every payload is made of (seed 000 sends `"x" * N * 1024`).
pub const PAYLOAD_BYTE: u8 = b'x';

/// Why a request was refused. Adapters map these to HTTP statuses
/// (400/413) and gRPC codes (INVALID_ARGUMENT/RESOURCE_EXHAUSTED).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("{0}")]
    InvalidArgument(String),
    #[error(
        "{what} of {requested_kb} KiB is over this server's limit of {limit_kb} KiB (--max-size-kb)"
    )]
    TooLarge {
        what: &'static str,
        requested_kb: u64,
        limit_kb: u64,
    },
}

/// The payload service's work, shared by the REST and gRPC adapters.
#[derive(Debug, Clone, Copy)]
pub struct PayloadHandler {
    max_size_kb: u64,
}

impl PayloadHandler {
    pub fn new(max_size_kb: u64) -> Self {
        Self { max_size_kb }
    }

    pub fn max_size_kb(&self) -> u64 {
        self.max_size_kb
    }

    /// Largest body, in bytes, a request may carry (echo included).
    pub fn max_size_bytes(&self) -> usize {
        usize::try_from(self.max_size_kb.saturating_mul(1024)).unwrap_or(usize::MAX)
    }

    /// `GetLargePayload`: `size_in_kb * 1024` bytes of `x`.
    pub fn payload(&self, size_in_kb: i64) -> Result<Bytes, RequestError> {
        crate::counters::count_request();
        let size_kb = u64::try_from(size_in_kb).map_err(|_| {
            RequestError::InvalidArgument(format!(
                "size_in_kb must be zero or positive, got {size_in_kb}"
            ))
        })?;
        if size_kb > self.max_size_kb {
            return Err(RequestError::TooLarge {
                what: "size_in_kb",
                requested_kb: size_kb,
                limit_kb: self.max_size_kb,
            });
        }
        // In bounds of max_size_kb, so the multiplication cannot overflow.
        let len = usize::try_from(size_kb * 1024).expect("bounded by max_size_kb");
        Ok(Bytes::from(vec![PAYLOAD_BYTE; len]))
    }

    /// `Echo`: the message back, if it is within the limit.
    pub fn echo(&self, data: Bytes) -> Result<Bytes, RequestError> {
        crate::counters::count_request();
        if data.len() > self.max_size_bytes() {
            return Err(RequestError::TooLarge {
                what: "echo message",
                requested_kb: (data.len() as u64).div_ceil(1024),
                limit_kb: self.max_size_kb,
            });
        }
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_exactly_n_kib_of_x() {
        let handler = PayloadHandler::new(1024);
        let data = handler.payload(512).unwrap();
        assert_eq!(data.len(), 512 * 1024);
        assert!(data.iter().all(|&b| b == PAYLOAD_BYTE));
        assert!(handler.payload(0).unwrap().is_empty());
    }

    #[test]
    fn bad_sizes_are_refused_before_allocating() {
        let handler = PayloadHandler::new(64);
        assert!(matches!(
            handler.payload(-1),
            Err(RequestError::InvalidArgument(_))
        ));
        assert_eq!(
            handler.payload(65),
            Err(RequestError::TooLarge {
                what: "size_in_kb",
                requested_kb: 65,
                limit_kb: 64
            })
        );
        // Would be an exabyte if it were allocated.
        assert!(matches!(
            handler.payload(i64::MAX),
            Err(RequestError::TooLarge { .. })
        ));
    }

    #[test]
    fn echo_enforces_the_limit() {
        let handler = PayloadHandler::new(1);
        let ok = Bytes::from(vec![1u8; 1024]);
        assert_eq!(handler.echo(ok.clone()).unwrap(), ok);
        assert!(handler.echo(Bytes::from(vec![1u8; 1025])).is_err());
    }
}
