//! The compressions a stack's bodies can go through (`+gzip`, `+zstd`).

/// A compression every request and answer body of a stack goes through:
/// HTTP `Content-Encoding` on REST, `grpc-encoding` on gRPC and gRPC-Web.
/// The levels are tonic's, which it does not let a user set (gzip 6,
/// zstd 3); the REST servers and the load engine use the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Compression {
    Gzip,
    Zstd,
}

impl Compression {
    pub const ALL: [Compression; 2] = [Compression::Gzip, Compression::Zstd];

    /// The token of `Content-Encoding` and `grpc-encoding`.
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// The level every side compresses at.
    pub fn level(self) -> i32 {
        match self {
            Compression::Gzip => 6,
            Compression::Zstd => 3,
        }
    }
}
