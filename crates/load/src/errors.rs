//! Errors inside a run are data: each failed request is counted under one
//! kind, and the first message of each kind is kept so a reader can see what
//! "status" or "wrong_body" actually was. Nothing here aborts a run.

use std::collections::BTreeMap;
use std::fmt;

/// Why one request did not count as a good response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// Could not open a connection (refused, unreachable, handshake failed).
    Connect,
    /// No complete answer within `--timeout`.
    Timeout,
    /// The connection closed or reset while the request was under way.
    Reset,
    /// HTTP status other than 2xx.
    Status,
    /// gRPC status other than OK (sent by the server).
    GrpcStatus,
    /// gRPC UNAVAILABLE: the channel could not reach the server.
    Unavailable,
    /// A 2xx/OK answer whose body was not what was asked for.
    WrongBody,
    /// Anything else the protocol stack reported (malformed frames, ...).
    Protocol,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 8] = [
        ErrorKind::Connect,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Status,
        ErrorKind::GrpcStatus,
        ErrorKind::Unavailable,
        ErrorKind::WrongBody,
        ErrorKind::Protocol,
    ];

    /// Stable name, as written in result files.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Status => "status",
            ErrorKind::GrpcStatus => "grpc_status",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::WrongBody => "wrong_body",
            ErrorKind::Protocol => "protocol",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One failed request: its kind and what the stack said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFailure {
    pub kind: ErrorKind,
    pub message: String,
    /// The status the server answered with, when it answered one: "HTTP
    /// 503", "gRPC Unavailable" (counted per code, as hey and ghz do).
    pub code: Option<String>,
}

impl RequestFailure {
    pub fn new(kind: ErrorKind, message: impl fmt::Display) -> Self {
        Self {
            kind,
            message: message.to_string(),
            code: None,
        }
    }

    /// The same failure, with the status the server answered.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

/// Counts per kind, plus the first message seen of each kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorTally {
    counts: [u64; ErrorKind::ALL.len()],
    first_messages: [Option<String>; ErrorKind::ALL.len()],
    /// Failures by the status the server answered ("HTTP 503").
    codes: BTreeMap<String, u64>,
}

impl ErrorTally {
    pub fn add(&mut self, failure: RequestFailure) {
        let i = failure.kind as usize;
        self.counts[i] += 1;
        if let Some(code) = failure.code {
            *self.codes.entry(code).or_default() += 1;
        }
        if self.first_messages[i].is_none() {
            self.first_messages[i] = Some(failure.message);
        }
    }

    pub fn merge(&mut self, other: &ErrorTally) {
        for i in 0..self.counts.len() {
            self.counts[i] += other.counts[i];
            if self.first_messages[i].is_none() {
                self.first_messages[i].clone_from(&other.first_messages[i]);
            }
        }
        for (code, n) in &other.codes {
            *self.codes.entry(code.clone()).or_default() += n;
        }
    }

    /// Failures by the status the server answered.
    pub fn codes(&self) -> &BTreeMap<String, u64> {
        &self.codes
    }

    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    pub fn count(&self, kind: ErrorKind) -> u64 {
        self.counts[kind as usize]
    }

    /// Kinds that occurred, by name, with their counts.
    pub fn by_name(&self) -> BTreeMap<String, u64> {
        self.nonzero()
            .map(|kind| (kind.name().to_owned(), self.count(kind)))
            .collect()
    }

    /// The first message of every kind that occurred, by name.
    pub fn examples_by_name(&self) -> BTreeMap<String, String> {
        self.nonzero()
            .filter_map(|kind| {
                let message = self.first_messages[kind as usize].clone()?;
                Some((kind.name().to_owned(), message))
            })
            .collect()
    }

    fn nonzero(&self) -> impl Iterator<Item = ErrorKind> + '_ {
        ErrorKind::ALL
            .into_iter()
            .filter(|kind| self.count(*kind) > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_counted_by_the_status_answered_and_merged() {
        let mut a = ErrorTally::default();
        a.add(RequestFailure::new(ErrorKind::Status, "x").with_code("HTTP 503"));
        a.add(RequestFailure::new(ErrorKind::Status, "x").with_code("HTTP 503"));
        a.add(RequestFailure::new(ErrorKind::Timeout, "no status"));
        let mut b = ErrorTally::default();
        b.add(RequestFailure::new(ErrorKind::GrpcStatus, "x").with_code("gRPC Internal"));
        b.add(RequestFailure::new(ErrorKind::Status, "x").with_code("HTTP 503"));
        a.merge(&b);
        let codes: Vec<(&str, u64)> = a.codes().iter().map(|(c, n)| (c.as_str(), *n)).collect();
        assert_eq!(codes, [("HTTP 503", 3), ("gRPC Internal", 1)]);
        assert_eq!(
            a.total(),
            5,
            "a failure without a status still counts by kind"
        );
    }

    #[test]
    fn tally_counts_by_kind_and_keeps_first_message() {
        let mut a = ErrorTally::default();
        a.add(RequestFailure::new(ErrorKind::Status, "503"));
        a.add(RequestFailure::new(ErrorKind::Status, "500"));
        let mut b = ErrorTally::default();
        b.add(RequestFailure::new(ErrorKind::Timeout, "10s"));
        b.add(RequestFailure::new(ErrorKind::Status, "404"));
        a.merge(&b);
        assert_eq!(a.total(), 4);
        assert_eq!(a.count(ErrorKind::Status), 3);
        assert_eq!(
            a.by_name().into_iter().collect::<Vec<_>>(),
            [("status".to_owned(), 3), ("timeout".to_owned(), 1)]
        );
        assert_eq!(a.examples_by_name()["status"], "503");
    }
}
