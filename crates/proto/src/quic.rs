//! QUIC's transport, the same on both ends of `rest-h3`. quinn runs its
//! congestion control in user space and defaults to Cubic, while TCP's
//! comes from the kernel (`net.ipv4.tcp_congestion_control`, BBR on this
//! machine). Compared as they come, rest-h3 against rest-h2+tls under loss
//! would be Cubic against BBR, not HTTP/3 against HTTP/2: Cubic halves its
//! window at random loss where BBR does not. So quinn takes the kernel's
//! choice (bbr, cubic, or reno as NewReno), and the trial says which.

use std::sync::Arc;

use quinn::congestion::{BbrConfig, CubicConfig, NewRenoConfig};

/// The congestion control the kernel gives TCP here.
pub fn kernel_congestion_control() -> &'static str {
    let name =
        std::fs::read_to_string("/proc/sys/net/ipv4/tcp_congestion_control").unwrap_or_default();
    match name.trim() {
        "bbr" => "bbr",
        "reno" => "reno",
        _ => "cubic",
    }
}

/// quinn's transport for both ends: its defaults, with the kernel TCP's
/// congestion control.
pub fn transport() -> quinn::TransportConfig {
    let mut transport = quinn::TransportConfig::default();
    transport.congestion_controller_factory(match kernel_congestion_control() {
        "bbr" => Arc::new(BbrConfig::default()),
        "reno" => Arc::new(NewRenoConfig::default()),
        _ => Arc::new(CubicConfig::default()),
    });
    transport
}
