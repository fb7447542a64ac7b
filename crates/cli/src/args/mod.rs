//! The command line (clap). It lives here only; [`crate::settings`] turns
//! it, once, into typed settings that cannot hold an invalid state.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use wirebench_probe::CpuSet;
use wirebench_proto::vocab::Stack;

mod help;
pub mod k8s;
mod message;
mod serve_spec;
pub use message::{MessageSchemaArgs, OwnMessageArgs, available};

#[derive(Debug, Parser)]
#[command(
    name = "wirebench",
    version,
    about = "What does REST cost and what does gRPC cost, for this payload, this load and this machine?"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a server wirebench measures (one role per process).
    Serve(Box<ServeArgs>),
    /// Drive any REST URL or gRPC target (ours or someone else's).
    Load(Box<LoadCmdArgs>),
    /// The main job: start the servers, load every stack the same way, report.
    Bench(Box<BenchArgs>),
    /// Re-render a saved result: table, md, csv, html or json.
    Report(ReportArgs),
    /// What changed between two results, in words (exit 1 past a threshold).
    Compare(CompareArgs),
    /// Add up the results of the agents of a sharded run (--shard I/N).
    Merge(crate::merge_cmd::MergeArgs),
    /// Print Kubernetes manifests that run load agents as an Indexed Job.
    K8s(k8s::K8sArgs),
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A result.json written by bench or load.
    pub result: PathBuf,
    /// table, md, csv, html, json, prometheus or influx.
    #[arg(long, default_value = "table")]
    pub format: wirebench_report::Format,
    /// Write here (atomically) instead of standard output.
    #[arg(long, short = 'o', visible_alias = "output")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub view: ViewArgs,
}

/// How the result is read: the questions a user asks of it, for `load`,
/// `bench` and `report` alike.
#[derive(Debug, Args, Clone, Default)]
pub struct ViewArgs {
    /// Translate each stack's measured costs to this rate: cores and
    /// Mbit/s at R requests per second (default: each workload's highest
    /// measured throughput).
    #[arg(long, value_name = "R", value_parser = crate::numbers::per_second, allow_negative_numbers = true, help_heading = "Report")]
    pub at_rate: Option<f64>,
    /// Terminal: every column, and a latency histogram after each trial
    /// (default: fits in 120 columns).
    #[arg(long, help_heading = "Report")]
    pub wide: bool,
}

impl ViewArgs {
    pub fn view(&self) -> wirebench_report::View {
        wirebench_report::View {
            at_rate_rps: self.at_rate,
            wide: self.wide,
            charts_beside: false,
        }
    }
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The earlier result.
    pub before: PathBuf,
    /// The later result.
    pub after: PathBuf,
    /// Exit with code 1 when a trial's throughput fell by more than this
    /// (e.g. 10%).
    #[arg(long)]
    pub fail_if_slower: Option<String>,
}

pub use wirebench_proto::vocab::ServiceKind;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(value_parser = help::services())]
    pub workload: ServiceKind,
    #[arg(long, help = help::stack())]
    pub stack: Stack,
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Serve Prometheus metrics (process CPU, memory, threads; requests and
    /// bytes written) at http://ADDR/metrics: PORT (on 127.0.0.1) or IP:PORT.
    #[arg(long, value_name = "ADDR", value_parser = crate::numbers::metrics_addr)]
    pub metrics: Option<std::net::SocketAddr>,
    #[arg(long, help = help::port(), value_parser = crate::numbers::whole::<u16>, allow_negative_numbers = true)]
    pub port: Option<u16>,
    /// Pipeline: which service this process is.
    #[arg(long, help_heading = "Pipeline")]
    pub role: Option<wirebench_server::pipeline::Role>,
    /// Pipeline: host:port of the service this one calls (default: the
    /// seed's port of the next role on 127.0.0.1).
    #[arg(long, help_heading = "Pipeline")]
    pub upstream: Option<String>,
    /// Pipeline, +tls: the certificate (PEM) the next service must present
    /// (default: --tls-cert, when all services share one certificate).
    #[arg(long, help_heading = "Pipeline")]
    pub upstream_ca: Option<PathBuf>,
    /// Pipeline: records per request when the request does not say.
    #[arg(long, default_value_t = wirebench_proto::pipeline_work::DEFAULT_RECORDS, help_heading = "Pipeline", value_parser = crate::numbers::whole::<u32>, allow_negative_numbers = true)]
    pub records: u32,
    /// Pipeline: most records one request may ask for.
    #[arg(long, default_value_t = wirebench_proto::pipeline_work::DEFAULT_MAX_RECORDS, help_heading = "Pipeline", value_parser = crate::numbers::whole::<u32>, allow_negative_numbers = true)]
    pub max_records: u32,
    /// Pipeline, gRPC: stream (one bidirectional stream per hop, the seed's
    /// design) or unary (one call per request).
    #[arg(long, default_value = "stream", help_heading = "Pipeline")]
    pub hop: wirebench_server::pipeline::HopMode,
    /// Pipeline: how long to wait for the next service before answering 503
    /// / UNAVAILABLE.
    #[arg(long, value_parser = crate::numbers::duration, allow_hyphen_values = true, default_value = "2s", help_heading = "Pipeline")]
    pub hop_timeout: Duration,
    /// Message: the built-in shape served (tiny, order, telemetry, text,
    /// binary).
    #[arg(long, default_value = "order", help_heading = "Message")]
    pub shape: wirebench_proto::message::Shape,
    /// Message: items in the shape's repeated fields (default: the shape's
    /// realistic size, e.g. 10 line items for order).
    #[arg(long, help_heading = "Message", value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub items: Option<u32>,
    /// Message: the seed of the message's values (clients must use the
    /// same one to check answers).
    #[arg(long, default_value_t = 1, help_heading = "Message", value_parser = crate::numbers::whole::<u64>, allow_negative_numbers = true)]
    pub seed: u64,
    #[command(flatten)]
    pub own: OwnMessageArgs,
    /// Mix: the mix file whose calls are served (see examples/mix/).
    #[arg(long, value_name = "FILE", help_heading = "Mix")]
    pub mix: Option<PathBuf>,
    /// Tokio worker threads (default: one per CPU this process may use).
    #[arg(long, value_parser = crate::numbers::at_least_one::<usize>, allow_negative_numbers = true)]
    pub workers: Option<usize>,
    /// Largest payload, echo or message request the server accepts, KiB.
    #[arg(long, default_value_t = wirebench_server::DEFAULT_MAX_SIZE_KB, value_parser = crate::numbers::whole::<u64>, allow_negative_numbers = true)]
    pub max_size_kb: u64,
    /// Bind with SO_REUSEPORT, so several server processes can share the
    /// port (the kernel spreads connections over them, like uvicorn
    /// --workers N).
    #[arg(long)]
    pub reuse_port: bool,
    /// +tls stacks: certificate (PEM); without it a self-signed one is made
    /// at start and its path printed.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// +tls stacks: the certificate's private key (PEM).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// +tls stacks: require every client to present a certificate signed
    /// by one of these (PEM): mutual TLS, as for ghz --cert/--key.
    #[arg(long)]
    pub tls_client_ca: Option<PathBuf>,
    /// gRPC stacks: async (handlers on the runtime's threads, like grpc.aio)
    /// or pool:N (on N blocking threads, like grpcio's thread pool).
    #[arg(long, default_value = "async")]
    pub grpc_exec: wirebench_server::grpc::GrpcExec,
    /// The plain grpc stack's payload service: tonic (hyper's HTTP/2), or
    /// grpcio (gRPC C-core; a build with `--features grpcio`).
    #[arg(long, default_value = "tonic")]
    pub grpc_impl: wirebench_server::grpc::GrpcImpl,
    /// JSON stacks (rest, rest-h2, grpc-json; the REST pipeline; JSON
    /// messages): the codec, serde_json (axum's default) or sonic-rs.
    #[arg(long, default_value = "serde_json")]
    pub json_codec: wirebench_proto::json::Codec,
    /// Close a connection with nothing read or written for this long.
    #[arg(long, value_parser = crate::numbers::positive_duration, allow_hyphen_values = true, default_value = "60s")]
    pub idle_timeout: Duration,
    /// HTTP/1.1 and HTTP/3: a request's headers must arrive within this
    /// (slowloris).
    #[arg(long, value_parser = crate::numbers::positive_duration, allow_hyphen_values = true, default_value = "10s")]
    pub header_timeout: Duration,
    /// Every stack: a request must be read and answered within this (a body
    /// trickled a byte at a time gets 408 or DEADLINE_EXCEEDED); a gRPC
    /// call's grpc-timeout shortens it.
    #[arg(long, value_parser = crate::numbers::positive_duration, allow_hyphen_values = true, default_value = "60s")]
    pub request_timeout: Duration,
    /// HTTP/2 (gRPC stacks, rest-h2): streams one connection may have open
    /// at once; more are refused (REFUSED_STREAM).
    #[arg(long, default_value_t = wirebench_server::http_serve::DEFAULT_MAX_CONCURRENT_STREAMS, value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub max_streams: u32,
}

/// Load flags shared by `load` and `bench`. All optional: a preset or the
/// command's defaults fill what is not given.
#[derive(Debug, Args, Clone, Default)]
pub struct LoadArgs {
    /// Locust model: this many users, each sending back to back.
    #[arg(short = 'u', long, help_heading = "Load model", value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub users: Option<u32>,
    /// Locust model: users started per second (Locust's default is 1).
    #[arg(short = 'r', long, help_heading = "Load model", value_parser = crate::numbers::per_second, allow_negative_numbers = true)]
    pub spawn_rate: Option<f64>,
    /// Measured window (e.g. 30s, 2m). With -u, -c or --rate (-z, as in
    /// hey and oha).
    #[arg(short = 't', visible_short_alias = 'z', long, value_parser = crate::numbers::duration, allow_hyphen_values = true, help_heading = "Load model")]
    pub duration: Option<Duration>,
    /// ab/ghz model: stop after this many measured requests.
    #[arg(short = 'n', long, help_heading = "Load model", value_parser = crate::numbers::at_least_one::<u64>, allow_negative_numbers = true)]
    pub requests: Option<u64>,
    /// ab/ghz model: requests in flight (with --rate: the most in flight).
    #[arg(short = 'c', long, help_heading = "Load model", value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub concurrency: Option<u32>,
    /// Open loop: requests per second, latency from the intended send time
    /// (-q, as in oha and hey).
    #[arg(short = 'q', long, help_heading = "Load model", value_parser = crate::numbers::per_second, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// Open loop whose rate changes (ghz's --load-schedule):
    /// step,start=100,end=1000,step=100,every=5s or
    /// line,start=100,end=1000,over=30s; -t defaults to the whole schedule.
    #[arg(long, value_name = "SCHEDULE", help_heading = "Load model")]
    pub rate_schedule: Option<wirebench_load::schedule::Schedule>,
    /// Closed loop whose concurrency changes (ghz's
    /// --concurrency-schedule): step,start=10,end=100,step=10,every=5s or
    /// line,start=1,end=100,over=30s.
    #[arg(long, value_name = "SCHEDULE", help_heading = "Load model")]
    pub concurrency_schedule: Option<wirebench_load::schedule::Schedule>,
    /// TCP connections (default: one per user/concurrent request for
    /// HTTP/1.1, one for gRPC).
    #[arg(long, help_heading = "Load model", value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub connections: Option<u32>,
    /// Sent and checked, but not measured (e.g. 2s).
    #[arg(long, value_parser = crate::numbers::duration, allow_hyphen_values = true, help_heading = "Load model")]
    pub warmup: Option<Duration>,
    /// ghz's --skipFirst: the window's first N requests are sent and
    /// checked but not tallied (-n counts them, as ghz's does). The
    /// window's clock runs while they do: --warmup is the warm-up the rate
    /// excludes.
    #[arg(
        long,
        alias = "skipFirst",
        value_name = "N",
        help_heading = "Load model"
    )]
    pub skip_first: Option<u64>,
    /// Per-request timeout (default 10s).
    #[arg(long, value_parser = crate::numbers::duration, allow_hyphen_values = true, help_heading = "Load model")]
    pub timeout: Option<Duration>,
    /// Write the result JSON here (atomically). On `load` only, `-` prints
    /// it on one line of standard output instead (for `merge -`).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// No live progress.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub view: ViewArgs,
    /// Pass/fail criterion on every trial, k6's: p99<50ms, p99.9<=1s,
    /// mean<10ms, max<2s, rps>1000, error_rate<0.1%; repeatable. A failed
    /// one is named and the exit code is 99.
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<wirebench_report::threshold::Threshold>,
    /// Stop a trial as soon as one of its --threshold is lost, judged on
    /// the window so far once a second (k6's abortOnFail): the partial
    /// result is kept, named as stopped early, and the exit code is 99.
    #[arg(long, requires = "thresholds")]
    pub abort_on_fail: bool,
    /// With --abort-on-fail: judge only after this much of the window
    /// (k6's delayAbortEval), e.g. for rps>N while users spawn.
    #[arg(long, value_parser = crate::numbers::duration, requires = "abort_on_fail")]
    pub abort_delay: Option<Duration>,
    #[command(flatten)]
    pub agent: crate::agent::AgentArgs,
    /// A server's Prometheus endpoint (serve --metrics), read at the
    /// window's edges for its CPU, memory and requests; repeatable.
    #[arg(long = "server-metrics", value_name = "URL")]
    pub server_metrics: Vec<String>,
}

impl LoadArgs {
    /// With `--abort-on-fail`: how far into the window thresholds are
    /// first judged.
    pub fn abort_after(&self) -> Option<Duration> {
        self.abort_on_fail
            .then(|| self.abort_delay.unwrap_or(Duration::ZERO))
    }
}

#[derive(Debug, Args, Clone)]
pub struct LoadCmdArgs {
    /// http(s)://HOST:PORT/PATH, grpc(s)://HOST:PORT or tcp(s)://HOST:PORT
    /// (the trailing s: TLS); several share the load in turn, with results
    /// per target and in total.
    #[arg(value_name = "URL")]
    pub urls: Vec<String>,
    /// The one URL this target is (set from `urls`, a targets file or a
    /// mix's call; see [`LoadCmdArgs::for_url`]).
    #[arg(skip)]
    pub url: String,
    /// Targets from a file: vegeta's lines (METHOD URL, then Name: value
    /// headers and @body-file), or a mix file (.toml) for weights.
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// A weighted mix of calls (TOML, see examples/mix/): each call its
    /// url (and method, data or message), picked by weight per request.
    #[arg(long, value_name = "FILE", conflicts_with = "targets")]
    pub mix: Option<PathBuf>,
    /// ghz's config file (JSON, or TOML by its extension): its keys fill
    /// what the command line leaves out; a key wirebench cannot honour is
    /// refused by name.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub load: LoadArgs,
    /// HTTP method (default GET, or POST with --body-file). -m is hey's
    /// method on http:// URLs and ghz's metadata (JSON) on grpc:// ones.
    #[arg(long, help_heading = "HTTP")]
    pub method: Option<String>,
    /// hey's -m (the HTTP method) on http:// URLs, ghz's -m (metadata as
    /// a JSON object, '{"key":"value"}') on grpc:// ones.
    #[arg(short = 'm', value_name = "METHOD|JSON", hide = true)]
    pub m: Option<String>,
    /// hey's -D (the HTTP body from this file) on http:// URLs, ghz's -D
    /// (the request as JSON from this file) on grpc:// ones.
    #[arg(short = 'D', value_name = "FILE", hide = true)]
    pub data_from: Option<PathBuf>,
    /// A new connection for every request (HTTP/1.1; hey's and oha's
    /// --disable-keepalive).
    #[arg(long, help_heading = "HTTP")]
    pub disable_keepalive: bool,
    /// Write the result here (atomically), as --output-format says
    /// (default: from the file's extension, else JSON).
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The format of -o: json, table, md, csv, html, prometheus (the
    /// OpenMetrics text exposition, as ghz's -O prometheus) or influx
    /// (InfluxDB line protocol).
    #[arg(long, short = 'O', value_name = "FORMAT")]
    pub output_format: Option<wirebench_report::Format>,
    /// Log every request (time, call, stack, latency, status, bytes), one
    /// line each: JSON Lines, or CSV when FILE ends in .csv.
    #[arg(long, value_name = "FILE")]
    pub log_requests: Option<PathBuf>,
    /// Most lines --log-requests writes; later requests are counted, not
    /// logged.
    #[arg(long, default_value_t = 1_000_000, value_parser = crate::numbers::at_least_one::<u64>, allow_negative_numbers = true)]
    pub log_requests_max: u64,
    /// Send this file as the request body.
    #[arg(long, help_heading = "HTTP")]
    pub body_file: Option<PathBuf>,
    /// Extra header, "Name: value"; repeatable. On grpc:// targets, gRPC
    /// metadata sent with every call (ghz's -m).
    #[arg(short = 'H', long = "header", help_heading = "HTTP")]
    pub headers: Vec<String>,
    /// The :authority of every gRPC call, instead of the URL's host:port
    /// (ghz's --authority); the connection still goes to the URL.
    #[arg(long, help_heading = "gRPC")]
    pub authority: Option<String>,
    /// gRPC method, e.g. payload.PayloadService/GetLargePayload or
    /// AggregatorService.Aggregate; any method (unary or streaming) of a
    /// server with reflection, or of --proto.
    #[arg(long, help_heading = "gRPC")]
    pub call: Option<String>,
    /// A server process on this host to probe through /proc, as bench
    /// probes its own (CPU, memory, bytes written); repeatable.
    #[arg(long = "server-pid", value_name = "PID")]
    pub server_pids: Vec<u32>,
    /// Streaming methods whose client streams (client streaming, bidi):
    /// messages each call sends, the request again and again (default 1).
    #[arg(long, help_heading = "gRPC", value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub stream_messages: Option<u32>,
    /// Streaming methods: the wait between two messages a call sends
    /// (ghz's --stream-interval), e.g. 10ms (default none).
    #[arg(long, help_heading = "gRPC", value_parser = crate::numbers::duration)]
    pub stream_interval: Option<Duration>,
    /// gRPC request as JSON (ghz's -d), e.g. '{"records": 100}'.
    #[arg(short = 'd', long = "data", help_heading = "gRPC")]
    pub data: Option<String>,
    /// A .proto file describing --call (instead of server reflection), or
    /// holding --message.
    #[arg(long, help_heading = "gRPC")]
    pub proto: Option<PathBuf>,
    /// Requests from this file, sent in turn (round-robin): one HTTP body
    /// per line, or one gRPC request per line as JSON (ghz's
    /// --data-file); with --message, one message per line (canonical
    /// proto3 JSON).
    #[arg(long, conflicts_with_all = ["data", "body_file"])]
    pub data_file: Option<PathBuf>,
    /// Message: load wirebench's message service (`serve message`, or any
    /// server of wirebench.message.MessageService) with this built-in
    /// shape (tiny, order, telemetry, text, binary).
    #[arg(long, conflicts_with = "message", help_heading = "Message")]
    pub shape: Option<wirebench_proto::message::Shape>,
    /// Message: down (the message is the answer), up (the request) or
    /// echo (both).
    #[arg(long, default_value = "down", help_heading = "Message")]
    pub direction: wirebench_proto::message::Direction,
    /// Message: items in the message's repeated fields (default: the
    /// shape's realistic size); the server must use the same.
    #[arg(long, help_heading = "Message", value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub items: Option<u32>,
    /// Message: the seed of generated values; the server must use the
    /// same.
    #[arg(long, default_value_t = 1, help_heading = "Message", value_parser = crate::numbers::whole::<u64>, allow_negative_numbers = true)]
    pub seed: u64,
    #[command(flatten)]
    pub message: MessageSchemaArgs,
    /// HTTP/2 with prior knowledge (h2c) for http:// URLs (curl's
    /// --http2-prior-knowledge).
    #[arg(long, help_heading = "HTTP")]
    pub http2: bool,
    /// gRPC with the JSON codec (application/grpc+json).
    #[arg(long, help_heading = "gRPC")]
    pub grpc_json: bool,
    /// The wirebench stack the URL speaks, where its scheme does not say:
    /// grpc-web, grpc-web-text and rest-h3 (http(s)://), or any stack
    /// +gzip / +zstd. The requests are the contract's: the payload
    /// (--size-kb), /aggregate?records=N, or --shape's message.
    #[arg(long, help_heading = "HTTP")]
    pub stack: Option<Stack>,
    /// TLS (https://, grpcs://, tcps://): accept any certificate. (ghz's
    /// --insecure means plaintext: here grpc:// is plaintext, grpcs:// TLS.)
    #[arg(short = 'k', long, help_heading = "TLS")]
    pub insecure: bool,
    /// TLS: trust the certificates in this PEM file.
    #[arg(long, help_heading = "TLS")]
    pub cacert: Option<PathBuf>,
    /// TLS: present this client certificate (PEM) when the server asks:
    /// mutual TLS (ghz's --cert).
    #[arg(long, requires = "key", help_heading = "TLS")]
    pub cert: Option<PathBuf>,
    /// TLS: the client certificate's private key (PEM; ghz's --key).
    #[arg(long, requires = "cert", help_heading = "TLS")]
    pub key: Option<PathBuf>,
    /// Payload size, KiB (gRPC GetLargePayload / Echo).
    #[arg(long, default_value_t = 1, help_heading = "gRPC", value_parser = crate::numbers::whole::<u64>, allow_negative_numbers = true)]
    pub size_kb: u64,
}

impl LoadCmdArgs {
    /// These flags, for one target.
    pub fn for_url(&self, url: &str) -> LoadCmdArgs {
        LoadCmdArgs {
            url: url.to_owned(),
            ..self.clone()
        }
    }
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(flatten)]
    pub load: LoadArgs,
    /// payload (seed 000), pipeline (seed 002) or message (--shape); a
    /// mix is --mix FILE.
    #[arg(long, value_parser = help::services())]
    pub workload: Option<ServiceKind>,
    /// Message: built-in shapes to compare (tiny, order, telemetry, text,
    /// binary); a list runs every stack once per shape.
    #[arg(long, value_delimiter = ',', help_heading = "Message")]
    pub shape: Option<Vec<wirebench_proto::message::Shape>>,
    /// Message: down (the message is the answer), up (the request) or echo
    /// (both); a list runs every stack once per direction.
    #[arg(long, value_delimiter = ',', help_heading = "Message")]
    pub direction: Option<Vec<wirebench_proto::message::Direction>>,
    /// Message: items in the shape's repeated fields (default: each shape's
    /// realistic size).
    #[arg(long, help_heading = "Message", value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub items: Option<u32>,
    /// Message: the seed of the message's values.
    #[arg(long, help_heading = "Message", value_parser = crate::numbers::whole::<u64>, allow_negative_numbers = true)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub own: OwnMessageArgs,
    /// A weighted mix of calls (TOML, see examples/mix/orders.toml): every
    /// stack serves each call at its own route and method, each request
    /// picks its call by weight; results per call and for the whole mix.
    #[arg(long, value_name = "FILE", help_heading = "Mix")]
    pub mix: Option<PathBuf>,
    /// Pipeline: records per request (default 100).
    #[arg(long, value_parser = crate::numbers::whole::<u32>, allow_negative_numbers = true)]
    pub records: Option<u32>,
    /// Pipeline, gRPC: how services call each other; a list (stream,unary)
    /// runs the gRPC pipeline once per mode.
    #[arg(long, value_delimiter = ',')]
    pub hop: Option<Vec<wirebench_server::pipeline::HopMode>>,
    /// Run every configuration K times, interleaved (A B A B ...), and give
    /// medians, spreads and ratios with intervals.
    #[arg(long, value_parser = crate::numbers::at_least_one::<u32>, allow_negative_numbers = true)]
    pub trials: Option<u32>,
    /// gRPC stacks: handler execution models to compare, e.g. async,pool:10.
    #[arg(long, value_delimiter = ',')]
    pub grpc_exec: Option<Vec<wirebench_server::grpc::GrpcExec>>,
    /// The grpc stack: gRPC server implementations to compare, tonic
    /// (hyper's HTTP/2) and grpcio (gRPC C-core; a build with
    /// `--features grpcio`, which needs cmake), e.g. tonic,grpcio.
    #[arg(long, value_delimiter = ',')]
    pub grpc_impl: Option<Vec<wirebench_server::grpc::GrpcImpl>>,
    /// JSON stacks: the codecs to compare, e.g. serde_json,sonic-rs
    /// (default serde_json).
    #[arg(long, value_delimiter = ',')]
    pub json_codec: Option<Vec<wirebench_proto::json::Codec>>,
    /// Network conditions between load generator and servers, through a
    /// user-space proxy: latency=20ms,jitter=5ms,bandwidth=100mbit,reset=0.001
    #[arg(long)]
    pub net: Option<wirebench_netsim::NetConditions>,
    #[arg(long, value_delimiter = ',', help = help::stacks())]
    pub stacks: Option<Vec<Stack>>,
    /// Payload size, KiB (default 512, seed 000's).
    #[arg(long, value_parser = crate::numbers::whole::<u64>, allow_negative_numbers = true)]
    pub size_kb: Option<u64>,
    /// A size sweep, KiB (e.g. 1,4,16,64,256,1024): every stack at every
    /// size; payload: --size-kb; message: items scaled to reach the size.
    /// Charts of server CPU, p50 and wire bytes against size, and where the
    /// stacks' order changes.
    #[arg(long, value_delimiter = ',', conflicts_with = "size_kb", value_parser = crate::numbers::whole::<u64>, allow_negative_numbers = true)]
    pub sizes: Option<Vec<u64>>,
    /// Tokio worker threads of each server process (default: one per server
    /// CPU). A list (1,2) runs every stack at every count.
    #[arg(long, value_delimiter = ',', value_parser = crate::numbers::at_least_one::<usize>, allow_negative_numbers = true)]
    pub workers: Option<Vec<usize>>,
    /// Server processes per stack sharing one port with SO_REUSEPORT, probed
    /// as a group (the equivalent of uvicorn --workers N). A list (1,2) runs
    /// every stack at every count.
    #[arg(long, value_delimiter = ',', value_parser = crate::numbers::at_least_one::<usize>, allow_negative_numbers = true)]
    pub server_processes: Option<Vec<usize>>,
    /// CPUs for the servers (e.g. 1 or 2-3). Default on 2+ CPUs: the upper
    /// half, disjoint from the load generator's.
    #[arg(long)]
    pub server_cpus: Option<CpuSet>,
    /// CPUs for the load generator. Default on 2+ CPUs: the lower half.
    #[arg(long)]
    pub client_cpus: Option<CpuSet>,
    /// Pin nothing: servers and load generator share every CPU.
    #[arg(long)]
    pub no_pin: bool,
    /// Servers bench does not start: STACK=URL,... (e.g.
    /// rest=http://10.0.0.2:8000,grpc=grpc://10.0.0.2:50051); measure them
    /// with --server-metrics [STACK=]URL.
    #[arg(long, value_name = "STACK=URL,...", help_heading = "Remote servers")]
    pub target: Option<String>,
    /// Servers in a network namespace of their own, reached through a veth
    /// pair: the kernel's real network path (MTU 1500) instead of loopback.
    /// Needs root.
    #[arg(long, conflicts_with = "target")]
    pub netns: bool,
    /// The certificate +tls targets are trusted with (PEM).
    #[arg(long, requires = "target", help_heading = "Remote servers")]
    pub cacert: Option<PathBuf>,
    /// Largest payload the servers accept, KiB.
    #[arg(long, value_parser = crate::numbers::whole::<u64>, allow_negative_numbers = true)]
    pub max_size_kb: Option<u64>,
    /// Where each trial's CPU goes: perf samples the servers and the load
    /// generator over the measured window; shares by category (encoding,
    /// framing, TLS, alloc+copy, kernel net, other) and a flame graph per
    /// stack in the HTML report. Needs perf (linux-perf) and permission.
    #[arg(long)]
    pub profile: bool,
    /// Capacity at an SLO: per stack, the highest open-loop rate that
    /// meets --slo (rates double from --rate, default 200/s, then a
    /// bisection to 5%; each step -t, default 4s, after --warmup, default
    /// 1s; at most -c in flight, default 200).
    #[arg(long, help_heading = "Capacity")]
    pub find_capacity: bool,
    /// The SLO for --find-capacity: thresholds joined by commas (default
    /// p99<50ms,error_rate<0.1%).
    #[arg(long, requires = "find_capacity", help_heading = "Capacity")]
    pub slo: Option<wirebench_report::threshold::Slo>,
    /// A preset from scenarios/ by name (e.g. seed-000), or a TOML file.
    #[arg(long)]
    pub preset: Option<String>,
    /// List the presets and exit.
    #[arg(long)]
    pub list_presets: bool,
    /// Folder for result.json, report.html and report.md (default
    /// results/<time>/).
    #[arg(long, short = 'o', visible_alias = "output")]
    pub out: Option<PathBuf>,
}
