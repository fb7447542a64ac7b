//! Help texts made from the vocabulary (`wirebench_proto::vocab`), so
//! `--help` names every stack and every default port as they are, and a
//! new stack appears in them without an edit here.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use wirebench_proto::vocab::{ServiceKind, Stack, StackKind};

/// `serve WORKLOAD` and `bench --workload`: the vocabulary's services,
/// each with its description.
pub fn services() -> impl TypedValueParser<Value = ServiceKind> {
    PossibleValuesParser::new(
        ServiceKind::ALL.map(|kind| PossibleValue::new(kind.name()).help(kind.describe())),
    )
    .map(|name| {
        name.parse::<ServiceKind>()
            .expect("one of the listed names")
    })
}

/// Every stack's name, in the vocabulary's order: "rest, rest-h2, ...".
fn kinds() -> String {
    StackKind::ALL
        .iter()
        .map(|kind| kind.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `serve --stack`.
pub fn stack() -> String {
    format!(
        "One of {}; +tls for TLS (rest-h3 always has it), +gzip or +zstd to compress (not tcp). The pipeline's services call each other over the same stack",
        kinds()
    )
}

/// `bench --stacks`.
pub fn stacks() -> String {
    let default: Vec<String> = Stack::DEFAULT.iter().map(|s| s.name()).collect();
    format!(
        "Stacks to compare, in order, comma-separated (default {}): {}, each with +tls, +gzip or +zstd as `serve --stack` takes them",
        default.join(","),
        kinds()
    )
}

/// `serve --port`: the default port of each stack, stacks of one port
/// together.
pub fn port() -> String {
    let mut ports: Vec<(u16, Vec<&str>)> = Vec::new();
    for kind in StackKind::ALL {
        let port = Stack::plain(kind).default_port();
        match ports.iter_mut().find(|(p, _)| *p == port) {
            Some((_, names)) => names.push(kind.name()),
            None => ports.push((port, vec![kind.name()])),
        }
    }
    let ports: Vec<String> = ports
        .iter()
        .map(|(port, names)| format!("{} {port}", names.join(", ")))
        .collect();
    format!(
        "Port; default the stack's ({}; the pipeline's producer, processor and aggregator take it +0, +1, +2); 0 picks a free one (the address is printed)",
        ports.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stack_and_its_port_is_named() {
        for kind in StackKind::ALL {
            assert!(stack().contains(kind.name()), "{}", kind.name());
            assert!(stacks().contains(kind.name()), "{}", kind.name());
            let default = Stack::plain(kind).default_port().to_string();
            assert!(port().contains(&default), "{default}");
        }
        assert!(stacks().contains("default rest,grpc"), "{}", stacks());
    }
}
