//! Where a trial's CPU went (`bench --profile`): the samples of its
//! measured window, by what the sampled function does, for the servers and
//! for the load generator, and its flame graph.
//!
//! A sample counts for the function it was taken in (self time), so a
//! `memcpy` called by prost counts as copying, not as encoding: the
//! categories say what the CPU did, not who asked. A sample in the kernel
//! is networking when its stack passes through the network code (a socket
//! call, TCP, the loopback device): the syscall entry and the wake-ups of
//! a `sendmsg` count as networking, a timer interrupt does not; a page
//! fault (fresh pages for an allocation) counts as allocation. Frames
//! come from `perf script` folded by inferno; kernel frames end in `_[k]`.

use crate::format;
use crate::grid::Grid;
use crate::model::RunResult;
pub use crate::model::{Category, Profile, Share};

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Encoding,
        Category::Framing,
        Category::Tls,
        Category::AllocCopy,
        Category::KernelNet,
        Category::Other,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Category::Encoding => "encoding",
            Category::Framing => "HTTP/gRPC framing",
            Category::Tls => "TLS",
            Category::AllocCopy => "alloc+copy",
            Category::KernelNet => "kernel net",
            Category::Other => "other",
        }
    }

    /// The category of a sample, from its stack (outermost frame first).
    pub fn of_stack(frames: &[&str]) -> Category {
        const NET: &[&str] = &[
            "tcp",
            "udp",
            "ip_",
            "ip6",
            "ipv6",
            "inet",
            "skb",
            "sock",
            "net",
            "dev_",
            "loopback",
            "veth",
            "nf_",
            "copy_from_iter",
            "copy_to_iter",
            "sendmsg",
            "recvmsg",
            "sendto",
            "recvfrom",
            "softirq",
            "napi",
            "neigh",
            "sys_write",
            "sys_read",
            "ep_poll",
        ];
        const FAULT: &[&str] = &["page_fault", "handle_mm_fault", "do_anonymous_page"];
        let leaf = frames.last().copied().unwrap_or_default();
        if !leaf.ends_with("_[k]") {
            return Category::of(leaf);
        }
        let kernel = || frames.iter().filter_map(|f| f.strip_suffix("_[k]"));
        if kernel().any(|f| FAULT.iter().any(|n| f.contains(n))) {
            Category::AllocCopy
        } else if kernel().any(|f| NET.iter().any(|n| f.contains(n))) {
            Category::KernelNet
        } else {
            Category::Other
        }
    }

    /// The category of a user-space function as `perf script` names it.
    pub fn of(frame: &str) -> Category {
        let any = |needles: &[&str]| needles.iter().any(|n| frame.contains(n));
        if any(&["rustls", "ring::", "aws_lc", "ring_core"]) {
            Category::Tls
        } else if any(&[
            "malloc",
            "free",
            "realloc",
            "calloc",
            "memcpy",
            "memmove",
            "memset",
            "alloc::raw_vec",
            "__rust_alloc",
            "__rust_dealloc",
            "__rust_realloc",
            "_int_",
            "cfree",
        ]) {
            Category::AllocCopy
        } else if any(&[
            "serde",
            "sonic_rs",
            "prost",
            "pbjson",
            "simdutf8",
            "from_utf8",
            "ryu",
            "itoa",
            "base64",
            "wirebench_load::verify",
        ]) {
            Category::Encoding
        } else if any(&[
            "hyper", "h2::", "tonic", "axum", "http::", "tower", "httparse",
        ]) {
            Category::Framing
        } else {
            Category::Other
        }
    }
}

/// Folded stacks kept per trial: the flame graph loses only the thinnest.
pub const MAX_FOLDED: usize = 3_000;

impl Profile {
    /// From folded stacks whose first frame is the role ("server" or
    /// "load generator") and last the sampled function.
    pub fn from_folded(frequency_hz: u32, folded: &[(String, u64)]) -> Profile {
        let mut counts = [[0u64; 6]; 2];
        let mut totals = [0u64; 2];
        for (stack, count) in folded {
            let role = usize::from(!stack.starts_with("server"));
            let frames: Vec<&str> = stack.split(';').collect();
            let category = Category::of_stack(&frames);
            let index = Category::ALL
                .iter()
                .position(|c| *c == category)
                .unwrap_or(5);
            counts[role][index] += count;
            totals[role] += count;
        }
        let shares = |role: usize| {
            Category::ALL
                .iter()
                .zip(counts[role])
                .map(|(&category, n)| Share {
                    category,
                    percent: if totals[role] == 0 {
                        0.0
                    } else {
                        n as f64 * 100.0 / totals[role] as f64
                    },
                })
                .collect()
        };
        let mut heaviest: Vec<&(String, u64)> = folded.iter().collect();
        heaviest.sort_by_key(|stack| std::cmp::Reverse(stack.1));
        Profile {
            frequency_hz,
            server_samples: totals[0],
            client_samples: totals[1],
            server: shares(0),
            client: shares(1),
            folded: heaviest
                .into_iter()
                .take(MAX_FOLDED)
                .map(|(stack, count)| format!("{stack} {count}"))
                .collect(),
        }
    }

    /// The flame graph, SVG (inferno's).
    pub fn flame_graph(&self, title: &str) -> Option<String> {
        let mut options = inferno::flamegraph::Options::default();
        options.title = title.to_owned();
        options.count_name = "samples".to_owned();
        options.min_width = 0.2;
        let mut svg = Vec::new();
        inferno::flamegraph::from_lines(
            &mut options,
            self.folded.iter().map(String::as_str),
            &mut svg,
        )
        .ok()?;
        String::from_utf8(svg).ok()
    }
}

/// What the profile table shows.
pub const CAPTION: &str = "where each profiled trial's CPU went: the share of its samples by the function they were taken in (perf, the measured window)";

/// One flame graph per profiled configuration (its first trial), with its
/// label.
pub fn flame_graphs(result: &RunResult) -> Vec<(String, String)> {
    let mut graphs: Vec<(String, String)> = Vec::new();
    for trial in &result.trials {
        let Some(profile) = &trial.profile else {
            continue;
        };
        let label = crate::label::group_label(result, trial);
        if graphs.iter().any(|(l, _)| *l == label) {
            continue;
        }
        if let Some(svg) = profile.flame_graph(&format!("{label}: servers and load generator")) {
            graphs.push((label, svg));
        }
    }
    graphs
}

/// Per profiled trial, the servers' and the load generator's shares.
pub fn grid(result: &RunResult) -> Option<Grid> {
    let mut rows = Vec::new();
    for trial in &result.trials {
        let Some(profile) = &trial.profile else {
            continue;
        };
        let label = crate::label::trial_label(result, trial);
        for (role, samples, shares) in [
            ("server", profile.server_samples, &profile.server),
            ("load generator", profile.client_samples, &profile.client),
        ] {
            let mut row = vec![label.clone(), role.to_owned(), format::thousands(samples)];
            row.extend(shares.iter().map(|s| format!("{:.1}%", s.percent)));
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return None;
    }
    let mut header = vec!["profile", "role", "samples"];
    header.extend(Category::ALL.iter().map(|c| c.title()));
    Some(Grid {
        header,
        rows,
        numeric_from: 2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_put_where_their_work_belongs() {
        for (frame, category) in [
            ("serde_json::ser::format_escaped_str", Category::Encoding),
            (
                "<&mut sonic_rs::serde::ser::Serializer<W,F>>::serialize_str",
                Category::Encoding,
            ),
            ("prost::encoding::bytes::encode", Category::Encoding),
            (
                "h2::proto::streams::prioritize::Prioritize::pop_frame",
                Category::Framing,
            ),
            ("hyper::proto::h1::role::Server::encode", Category::Framing),
            (
                "rustls::record_layer::RecordLayer::encrypt_outgoing",
                Category::Tls,
            ),
            ("__memmove_avx512_unaligned_erms", Category::AllocCopy),
            ("_int_malloc", Category::AllocCopy),
            (
                "tokio::runtime::scheduler::multi_thread::worker::Context::run",
                Category::Other,
            ),
        ] {
            assert_eq!(Category::of(frame), category, "{frame}");
        }
        for (stack, category) in [
            (
                &["main", "__send", "__sys_sendto_[k]", "_copy_from_iter_[k]"][..],
                Category::KernelNet,
            ),
            (
                &[
                    "main",
                    "writev",
                    "do_syscall_64_[k]",
                    "__x64_sys_writev_[k]",
                    "sock_write_iter_[k]",
                    "_raw_spin_unlock_irqrestore_[k]",
                ],
                Category::KernelNet,
            ),
            (
                &[
                    "main",
                    "asm_sysvec_apic_timer_interrupt_[k]",
                    "schedule_[k]",
                ],
                Category::Other,
            ),
            (
                &["main", "serde_json::to_writer", "memcpy"],
                Category::AllocCopy,
            ),
            (
                &[
                    "main",
                    "memcpy",
                    "exc_page_fault_[k]",
                    "clear_page_erms_[k]",
                ],
                Category::AllocCopy,
            ),
        ] {
            assert_eq!(Category::of_stack(stack), category, "{stack:?}");
        }
    }

    #[test]
    fn shares_count_the_leaf_per_role_and_the_heaviest_stacks_are_kept() {
        let folded = [
            ("server;main;serde_json::to_writer".to_owned(), 60),
            ("server;main;tcp_sendmsg_[k]".to_owned(), 40),
            ("load generator;run;h2::codec::read".to_owned(), 10),
        ];
        let profile = Profile::from_folded(199, &folded);
        assert_eq!((profile.server_samples, profile.client_samples), (100, 10));
        let server = |c: Category| {
            profile
                .server
                .iter()
                .find(|s| s.category == c)
                .unwrap()
                .percent
        };
        assert_eq!(server(Category::Encoding), 60.0);
        assert_eq!(server(Category::KernelNet), 40.0);
        assert_eq!(profile.client[1].percent, 100.0);
        assert_eq!(profile.folded[0], "server;main;serde_json::to_writer 60");
        let svg = profile.flame_graph("rest").unwrap();
        assert!(svg.contains("<svg") && svg.contains("serde_json"), "{svg}");
    }
}
