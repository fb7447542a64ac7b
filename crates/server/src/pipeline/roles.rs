//! The three services' work, written once: [`Producer`], [`Processor`] and
//! [`Aggregator`], the pipeline's counterpart of the payload service's
//! `PayloadHandler`. A role that calls the next service does so through an
//! [`Upstream`] ("give me N records"), which every hop kind implements
//! (`RestHop`, `GrpcHop` with its stream or unary calls, `TcpHop`). A hop
//! reports a typed [`HopFailure`]; [`HopFailure::into_error`] is the one
//! place that turns it into the answer the caller gets (503 / UNAVAILABLE
//! when the next service is missing, 502 / INTERNAL when it answered badly).
//!
//! Adapters only decode a request, call [`Role::answer`] (or the role's own
//! method, where a protocol has one method per role) and encode the
//! [`Answer`].

use std::future::Future;

use wirebench_proto::pipeline::{ProcessedBatch, ProcessedRecord, Record, RecordBatch, Summary};
use wirebench_proto::pipeline_hop::{HopAnswer, HopRequest};
use wirebench_proto::pipeline_work as work;

use super::{Limits, PipelineConfig, PipelineError, Role as RoleName};

/// Why a hop to the next service gave no records.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HopFailure {
    /// It could not be reached, or did not answer in time.
    #[error("is unavailable: {0}")]
    Unreachable(String),
    /// It answered with a refusal; `unavailable` when the refusal itself
    /// says a service further down is missing (503, UNAVAILABLE).
    #[error("answered {status}: {message}")]
    Refused {
        status: String,
        unavailable: bool,
        message: String,
    },
    /// It answered something that is not the expected message.
    #[error("sent a malformed answer: {0}")]
    Malformed(String),
}

impl HopFailure {
    /// What the caller of this role is told: `next` names the service and
    /// its address ("producer at 127.0.0.1:8000").
    pub fn into_error(self, next: &str) -> PipelineError {
        let message = format!("{next} {self}");
        match self {
            HopFailure::Unreachable(_)
            | HopFailure::Refused {
                unavailable: true, ..
            } => PipelineError::Unavailable(message),
            HopFailure::Refused { .. } | HopFailure::Malformed(_) => {
                PipelineError::BadUpstream(message)
            }
        }
    }

    /// A refusal carried as a gRPC status code (gRPC and tcp hops, and
    /// the per-request failures of a stream).
    pub fn refused_with_code(code: i32, message: String) -> HopFailure {
        let code = tonic::Code::from_i32(code);
        HopFailure::Refused {
            status: format!("{code:?}"),
            unavailable: code == tonic::Code::Unavailable,
            message,
        }
    }
}

/// Runs a hop's `exchange`, or fails it as unreachable after `timeout`:
/// how long a role waits for the next service before answering 503.
pub async fn within<T>(
    timeout: std::time::Duration,
    exchange: impl Future<Output = Result<T, HopFailure>>,
) -> Result<T, HopFailure> {
    tokio::time::timeout(timeout, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(HopFailure::Unreachable(format!(
                "no answer within {timeout:?}"
            )))
        })
}

/// The next service, as a role sees it: ask for `records`, get them back.
pub trait Upstream<Item>: Send + Sync + 'static {
    fn fetch(&self, records: u32) -> impl Future<Output = Result<Vec<Item>, HopFailure>> + Send;
}

/// A hop kind: how to build the hop to the next service for each of the
/// pipeline's two hops (processor -> producer, aggregator -> processor).
pub trait Hops {
    type To<R: HopRequest>: Upstream<<R::Answer as HopAnswer>::Item>;
    fn to<R: HopRequest>(&self, config: &PipelineConfig) -> Self::To<R>;
}

/// The hop of the processor (asks the producer for records).
pub type ToProducer<H> = <H as Hops>::To<wirebench_proto::pipeline::GenerateRequest>;
/// The hop of the aggregator (asks the processor for scored records).
pub type ToProcessor<H> = <H as Hops>::To<wirebench_proto::pipeline::ProcessRequest>;

/// The producer: generates records.
#[derive(Debug, Clone, Copy)]
pub struct Producer {
    limits: Limits,
}

/// Most batches one `GenerateSeries` call may ask for.
pub const MAX_SERIES_BATCHES: u32 = 10_000;

impl Producer {
    pub fn generate(&self, requested: u32) -> Result<Vec<Record>, PipelineError> {
        crate::counters::count_request();
        Ok(work::generate(self.limits.records(requested)?))
    }

    /// `batches` batches (0: one) of `requested` records (server
    /// streaming), checked at once and generated one by one as the caller
    /// reads them: every batch is work done anew, none is cached.
    pub fn series(
        &self,
        requested: u32,
        batches: u32,
    ) -> Result<impl Iterator<Item = Vec<Record>> + Send + 'static, PipelineError> {
        crate::counters::count_request();
        let n = self.limits.records(requested)?;
        if batches > MAX_SERIES_BATCHES {
            return Err(PipelineError::InvalidArgument(format!(
                "{batches} batches is over the limit of {MAX_SERIES_BATCHES}"
            )));
        }
        Ok((0..batches.max(1)).map(move |_| work::generate(n)))
    }
}

/// What the processor and the aggregator share: the next service, and
/// the limits a request is checked against before it is passed on.
pub struct Asks<U> {
    limits: Limits,
    upstream: U,
    /// "producer at 127.0.0.1:8000", for messages.
    next: String,
}

impl<U> Asks<U> {
    /// The records of a request of `requested`, from the next service.
    async fn fetch<Item>(&self, requested: u32) -> Result<Vec<Item>, PipelineError>
    where
        U: Upstream<Item>,
    {
        let n = self.limits.records(requested)?;
        self.upstream
            .fetch(n)
            .await
            .map_err(|failure| failure.into_error(&self.next))
    }
}

/// The processor: asks the producer, scores what it gets.
pub struct Processor<U>(Asks<U>);

impl<U: Upstream<Record>> Processor<U> {
    pub async fn process(&self, requested: u32) -> Result<Vec<ProcessedRecord>, PipelineError> {
        crate::counters::count_request();
        Ok(work::process(self.0.fetch(requested).await?))
    }
}

/// The aggregator: asks the processor, summarises what it gets.
pub struct Aggregator<U>(Asks<U>);

impl<U> Aggregator<U> {
    /// The summary of records the caller sent (client streaming), at most
    /// --max-records in all; `more` adds a batch to what was gathered.
    pub fn gather(
        &self,
        gathered: &mut Vec<ProcessedRecord>,
        more: Vec<ProcessedRecord>,
    ) -> Result<(), PipelineError> {
        let total = gathered.len().saturating_add(more.len());
        let limit = self.0.limits.max_records;
        if total > limit as usize {
            return Err(PipelineError::TooLarge {
                requested: u32::try_from(total).unwrap_or(u32::MAX),
                limit,
            });
        }
        gathered.extend(more);
        Ok(())
    }
}

impl<U: Upstream<ProcessedRecord>> Aggregator<U> {
    pub async fn aggregate(&self, requested: u32) -> Result<Summary, PipelineError> {
        crate::counters::count_request();
        Ok(work::aggregate(&self.0.fetch(requested).await?))
    }
}

/// One role, with its hops built by the hop kind `H`.
pub enum Role<H: Hops> {
    Producer(Producer),
    Processor(Processor<ToProducer<H>>),
    Aggregator(Aggregator<ToProcessor<H>>),
}

/// What a role answers, before it is encoded.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Records(Vec<Record>),
    Processed(Vec<ProcessedRecord>),
    Summary(Summary),
}

impl Answer {
    /// As protobuf; `request_id` goes into the batches that carry one.
    pub fn encode_protobuf(self, request_id: u64) -> Vec<u8> {
        use prost::Message;
        match self {
            Answer::Records(records) => RecordBatch::new(request_id, records).encode_to_vec(),
            Answer::Processed(records) => ProcessedBatch::new(request_id, records).encode_to_vec(),
            Answer::Summary(summary) => summary.encode_to_vec(),
        }
    }

    /// As the REST stacks' JSON (the messages' field names).
    pub fn encode_json(self) -> Vec<u8> {
        use wirebench_proto::json;
        let written = match self {
            Answer::Records(records) => json::to_vec(&RecordBatch::new(0, records)),
            Answer::Processed(records) => json::to_vec(&ProcessedBatch::new(0, records)),
            Answer::Summary(summary) => json::to_vec(&summary),
        };
        written.expect("pipeline messages serialize")
    }
}

impl<H: Hops> Role<H> {
    /// The role `config` names, calling the next service through `hops`.
    pub fn new(config: &PipelineConfig, hops: &H) -> Self {
        let limits = config.limits;
        let next = config.next_service();
        match config.role {
            RoleName::Producer => Role::Producer(Producer { limits }),
            RoleName::Processor => Role::Processor(Processor(Asks {
                limits,
                upstream: hops.to(config),
                next,
            })),
            RoleName::Aggregator => Role::Aggregator(Aggregator(Asks {
                limits,
                upstream: hops.to(config),
                next,
            })),
        }
    }

    /// The role's work for a request of `requested` records.
    pub async fn answer(&self, requested: u32) -> Result<Answer, PipelineError> {
        Ok(match self {
            Role::Producer(producer) => Answer::Records(producer.generate(requested)?),
            Role::Processor(processor) => Answer::Processed(processor.process(requested).await?),
            Role::Aggregator(aggregator) => Answer::Summary(aggregator.aggregate(requested).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A next service that is not there.
    struct Gone;

    impl<T: Send + 'static> Upstream<T> for Gone {
        async fn fetch(&self, _: u32) -> Result<Vec<T>, HopFailure> {
            Err(HopFailure::Unreachable("connection refused".into()))
        }
    }

    /// A next service that answers every request from the shared work.
    struct Local;

    impl Upstream<Record> for Local {
        async fn fetch(&self, records: u32) -> Result<Vec<Record>, HopFailure> {
            Ok(work::generate(records))
        }
    }

    const LIMITS: Limits = Limits {
        default_records: 100,
        max_records: 1000,
    };

    #[tokio::test]
    async fn the_roles_do_the_shared_work_through_any_upstream() {
        let processor = Processor(Asks {
            limits: LIMITS,
            upstream: Local,
            next: "producer at here".into(),
        });
        let processed = processor.process(0).await.unwrap();
        assert_eq!(
            work::aggregate(&processed),
            work::expected_summary(100),
            "0 records means the default"
        );
        assert!(matches!(
            processor.process(1001).await,
            Err(PipelineError::TooLarge { .. })
        ));
    }

    /// Hops to nowhere.
    struct NoHops;

    impl Hops for NoHops {
        type To<R: HopRequest> = Gone;
        fn to<R: HopRequest>(&self, _: &PipelineConfig) -> Gone {
            Gone
        }
    }

    #[tokio::test]
    async fn a_missing_next_service_is_named_in_the_answer() {
        let config = PipelineConfig {
            role: RoleName::Aggregator,
            upstream: Some("127.0.0.1:9".into()),
            limits: LIMITS,
            hop: super::super::HopMode::Stream,
            hop_timeout: std::time::Duration::from_secs(1),
            upstream_tls: None,
        };
        let err = Role::new(&config, &NoHops).answer(5).await.unwrap_err();
        assert_eq!(
            err,
            PipelineError::Unavailable(
                "processor at 127.0.0.1:9 is unavailable: connection refused".into()
            )
        );
    }

    #[test]
    fn hop_failures_map_in_one_place() {
        let next = "producer at a:1";
        let unavailable = HopFailure::refused_with_code(14, "db down".into());
        assert!(matches!(
            unavailable.into_error(next),
            PipelineError::Unavailable(m) if m == "producer at a:1 answered Unavailable: db down"
        ));
        let refused = HopFailure::Refused {
            status: "400 Bad Request".into(),
            unavailable: false,
            message: "no".into(),
        };
        assert!(matches!(
            refused.into_error(next),
            PipelineError::BadUpstream(_)
        ));
        assert!(matches!(
            HopFailure::Malformed("eof".into()).into_error(next),
            PipelineError::BadUpstream(m) if m.contains("malformed")
        ));
    }
}
