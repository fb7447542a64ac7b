//! `serve`'s arguments as a spec: what `bench` starts as a child process
//! (`deploy`) and what `wirebench k8s` writes into a Deployment are the
//! same [`ServeArgs`] that `serve` parses, turned into a command line by
//! one function ([`ServeArgs::argv`]) and parsed back by clap in the child.
//! A flag added to `serve` is a field here too (the compiler asks), and the
//! round trip is tested, so the parent's command line and the child's
//! parser cannot drift apart.

use std::fmt::Display;

use clap::Parser;
use wirebench_proto::message::MessageSource;
use wirebench_proto::vocab::Stack;

use super::{Cli, Command, ServeArgs, ServiceKind};

impl ServeArgs {
    /// `serve WORKLOAD --stack STACK` with every other flag at its default,
    /// the defaults being clap's own: the start of a spec.
    pub fn new(workload: ServiceKind, stack: Stack) -> ServeArgs {
        let argv = [
            "wirebench",
            "serve",
            workload.name(),
            "--stack",
            &stack.name(),
        ];
        match Cli::try_parse_from(argv).map(|cli| cli.command) {
            Ok(Command::Serve(args)) => *args,
            other => unreachable!("serve's defaults parse: {other:?}"),
        }
    }

    /// Serves `source`: the built-in shape, or the user's schema.
    pub fn with_message(mut self, source: &MessageSource) -> ServeArgs {
        match source {
            MessageSource::Shape {
                shape,
                seed,
                items,
                codegen,
            } => {
                self.shape = *shape;
                self.seed = *seed;
                self.items = Some(*items);
                self.own.schema.codegen = vec![*codegen];
            }
            MessageSource::Proto {
                proto,
                include,
                message,
                data,
                seed,
                items,
                string_bytes,
                codegen,
            } => {
                self.own.proto = Some(proto.clone());
                self.own.data = data.clone();
                self.own.schema.proto_path = include.clone();
                self.own.schema.message = Some(message.clone());
                self.own.schema.string_bytes = *string_bytes;
                self.own.schema.codegen = vec![*codegen];
                self.seed = *seed;
                self.items = Some(*items);
            }
        }
        self
    }

    /// The command line (after the binary's name) that `serve` parses back
    /// into these arguments: the workload and stack, then every flag whose
    /// value is not its default.
    pub fn argv(&self) -> Vec<String> {
        let defaults = ServeArgs::new(self.workload, self.stack).flags();
        let mut argv = vec![
            "serve".to_owned(),
            self.workload.name().to_owned(),
            "--stack".to_owned(),
            self.stack.name(),
        ];
        for (words, default) in self.flags().into_iter().zip(defaults) {
            if words != default {
                argv.extend(words);
            }
        }
        argv
    }

    /// Every flag but the workload and stack, as the words it takes on a
    /// command line (none when absent). Destructured, so a new field of
    /// `ServeArgs` must be named here.
    fn flags(&self) -> Vec<Vec<String>> {
        let ServeArgs {
            workload: _,
            stack: _,
            bind,
            metrics,
            port,
            role,
            upstream,
            upstream_ca,
            records,
            max_records,
            hop,
            hop_timeout,
            shape,
            items,
            seed,
            own,
            mix,
            workers,
            max_size_kb,
            reuse_port,
            tls_cert,
            tls_key,
            tls_client_ca,
            grpc_exec,
            grpc_impl,
            json_codec,
            idle_timeout,
            header_timeout,
            request_timeout,
            max_streams,
        } = self;
        let one = |name: &str, value: &dyn Display| vec![name.to_owned(), value.to_string()];
        let maybe =
            |name: &str, value: Option<&dyn Display>| value.map_or_else(Vec::new, |v| one(name, v));
        let path = |name: &str, value: &Option<std::path::PathBuf>| {
            value
                .as_ref()
                .map_or_else(Vec::new, |p| one(name, &p.display()))
        };
        let duration = |name: &str, value: &std::time::Duration| {
            one(name, &humantime::format_duration(*value))
        };
        vec![
            one("--bind", bind),
            maybe("--metrics", metrics.as_ref().map(|m| m as &dyn Display)),
            maybe("--port", port.as_ref().map(|p| p as &dyn Display)),
            maybe("--role", role.as_ref().map(|r| r as &dyn Display)),
            maybe("--upstream", upstream.as_ref().map(|u| u as &dyn Display)),
            path("--upstream-ca", upstream_ca),
            one("--records", records),
            one("--max-records", max_records),
            one("--hop", &hop.name()),
            duration("--hop-timeout", hop_timeout),
            one("--shape", shape),
            maybe("--items", items.as_ref().map(|i| i as &dyn Display)),
            one("--seed", seed),
            path("--proto", &own.proto),
            path("--data", &own.data),
            own.schema
                .proto_path
                .iter()
                .flat_map(|dir| ["--proto-path".to_owned(), dir.display().to_string()])
                .collect(),
            maybe(
                "--message",
                own.schema.message.as_ref().map(|m| m as &dyn Display),
            ),
            one("--string-bytes", &own.schema.string_bytes),
            one(
                "--codegen",
                &own.schema
                    .codegen
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            path("--mix", mix),
            maybe("--workers", workers.as_ref().map(|w| w as &dyn Display)),
            one("--max-size-kb", max_size_kb),
            if *reuse_port {
                vec!["--reuse-port".to_owned()]
            } else {
                Vec::new()
            },
            path("--tls-cert", tls_cert),
            path("--tls-key", tls_key),
            path("--tls-client-ca", tls_client_ca),
            one("--grpc-exec", grpc_exec),
            one("--grpc-impl", grpc_impl),
            one("--json-codec", json_codec),
            duration("--idle-timeout", idle_timeout),
            duration("--header-timeout", header_timeout),
            duration("--request-timeout", request_timeout),
            one("--max-streams", max_streams),
        ]
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use wirebench_proto::message::Shape;
    use wirebench_proto::message::compiled::Codegen;
    use wirebench_server::pipeline::{HopMode, Role};

    use super::*;

    fn parse(argv: Vec<String>) -> ServeArgs {
        let argv = std::iter::once("wirebench".to_owned()).chain(argv);
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Serve(args) => *args,
            other => panic!("{other:?}"),
        }
    }

    /// What the parent writes is what the child reads: every field set
    /// away from its default survives the trip through the command line.
    #[test]
    fn a_spec_round_trips_through_its_command_line() {
        let mut pipeline = ServeArgs::new(ServiceKind::Pipeline, "grpc+tls".parse().unwrap());
        pipeline.bind = "0.0.0.0".parse().unwrap();
        pipeline.metrics = Some("0.0.0.0:9100".parse().unwrap());
        pipeline.port = Some(50052);
        pipeline.role = Some(Role::Processor);
        pipeline.upstream = Some("producer:50051".to_owned());
        pipeline.upstream_ca = Some("/tmp/ca.pem".into());
        pipeline.records = 250;
        pipeline.hop = HopMode::Unary;
        pipeline.hop_timeout = Duration::from_millis(1500);
        pipeline.workers = Some(2);
        pipeline.tls_cert = Some("/tmp/cert.pem".into());
        pipeline.tls_key = Some("/tmp/key.pem".into());
        pipeline.idle_timeout = Duration::from_secs(90);
        pipeline.max_streams = 64;
        let message = ServeArgs::new(ServiceKind::Message, "rest-proto".parse().unwrap())
            .with_message(&MessageSource::Proto {
                proto: "shop.proto".into(),
                include: vec!["a".into(), "b".into()],
                message: "shop.v1.Order".to_owned(),
                data: Some("orders.jsonl".into()),
                seed: 7,
                items: 5,
                string_bytes: 32,
                codegen: Codegen::Dynamic,
            });
        let mut payload = ServeArgs::new(ServiceKind::Payload, "grpc".parse().unwrap())
            .with_message(&MessageSource::Shape {
                shape: Shape::Telemetry,
                seed: 3,
                items: 9,
                codegen: Codegen::Compiled,
            });
        payload.reuse_port = true;
        payload.max_size_kb = 1024;
        payload.grpc_exec = "pool:4".parse().unwrap();
        payload.json_codec = "sonic-rs".parse().unwrap();
        let defaults = ServeArgs::new(ServiceKind::Mix, "tcp".parse().unwrap());
        for spec in [pipeline, message, payload, defaults] {
            let argv = spec.argv();
            assert_eq!(
                format!("{:?}", parse(argv.clone())),
                format!("{spec:?}"),
                "{argv:?}"
            );
        }
    }

    #[test]
    fn only_what_differs_from_the_defaults_is_written() {
        let mut spec = ServeArgs::new(ServiceKind::Payload, "rest".parse().unwrap());
        assert_eq!(spec.argv(), ["serve", "payload", "--stack", "rest"]);
        spec.port = Some(0);
        spec.workers = Some(1);
        assert_eq!(
            spec.argv(),
            [
                "serve",
                "payload",
                "--stack",
                "rest",
                "--port",
                "0",
                "--workers",
                "1"
            ]
        );
    }
}
