//! Network conditions without the kernel's help: a TCP proxy on loopback
//! that the load engine talks to instead of the server (`--net
//! latency=20ms,jitter=5ms,bandwidth=100mbit,reset=0.001`). This machine's
//! kernel has no netem, and the proxy works everywhere.
//!
//! Each direction of each connection is a pipeline: a reader stamps every
//! chunk with the time it may leave (after the link has carried it, and one
//! one-way delay, plus jitter, later; never before the chunk ahead of it),
//! a writer sends it then. The link is shared by every connection in a
//! direction, as a real link is: a pacer hands out transmission slots at
//! the configured rate (a token bucket with a small burst). A chunk from
//! the client may, with the reset probability, make the proxy reset both
//! sides of its connection (RST, not FIN): the errors a flaky network gives.
//!
//! QUIC (`rest-h3`) is relayed datagram by datagram ([`Transport::Udp`]),
//! under the same delay, jitter and link.
//!
//! Where the kernel can help, it does: [`netns`] builds real network paths
//! between network namespaces (veth pairs, a bridge), and on them drops
//! packets (`loss=`, nftables) and shapes bandwidth (tbf), which a proxy
//! cannot do to TCP: it would only delay what TCP never lost.

mod conditions;
pub mod delay_line;
pub mod netns;
mod proxy;
mod relay;
mod udp;

pub use conditions::{ConditionsError, NetConditions};
pub use proxy::{Proxy, Transport};
pub use relay::ProxyStats;
