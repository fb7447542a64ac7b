//! How a gRPC pipeline role calls the next one, in its own codec: on one
//! long-lived bidirectional stream ([`StreamHop`]) or with unary calls.
//! One generic hop serves both hops and both codecs: the method paths come
//! from the request type ([`HopRequest`]), the codec from a [`WireCodec`]
//! type, and the calls go through `tonic::client::Grpc`, as the generated
//! clients' do. The channel is opened through the shared
//! [`hop_connect`](super::hop_connect) (plain or TLS) and marks requests
//! with the codec's content type.

use std::marker::PhantomData;
use std::time::Duration;

use http::uri::PathAndQuery;
use tokio_stream::wrappers::ReceiverStream;
use tonic::codec::Codec;
use tonic::transport::{Channel, Endpoint};
use tonic::{Request, Status, Streaming};
use wirebench_proto::json_codec::{JsonCodec, JsonMessage};
use wirebench_proto::pipeline_hop::{HopAnswer, HopRequest};
use wirebench_proto::{GRPC_CONNECTION_WINDOW_BYTES, GRPC_STREAM_WINDOW_BYTES};

use super::roles::{HopFailure, Hops, Upstream, within};
use super::stream_hop::StreamHop;
use super::{HopMode, PipelineConfig};

/// A request on its way to the next service, before tonic sees it.
type HttpRequest = http::Request<tonic::body::Body>;

/// A channel to the next service that sends its codec's content type
/// (tonic's client always says `application/grpc`).
pub type HopChannel = tower::util::MapRequest<Channel, fn(HttpRequest) -> HttpRequest>;

/// What a message needs to travel in either codec.
pub trait Wire: prost::Message + Default + JsonMessage + 'static {}
impl<T: prost::Message + Default + JsonMessage + 'static> Wire for T {}

/// A gRPC codec as a type: protobuf ([`Protobuf`]) or JSON ([`Json`]).
pub trait WireCodec: Send + Sync + 'static {
    type Codec<E: Wire, D: Wire>: Codec<Encode = E, Decode = D> + Default + Send + 'static;
    /// Whether this is the JSON codec (the server's content-type guard).
    const JSON: bool;
    /// Marks a request with the codec's content type.
    fn mark(request: HttpRequest) -> HttpRequest;
}

/// The `grpc` stack's codec (prost, through a `Vec`: see
/// `wirebench_proto::records_codec`), tonic's default content type.
pub struct Protobuf;

impl WireCodec for Protobuf {
    type Codec<E: Wire, D: Wire> = wirebench_proto::records_codec::RecordsCodec<E, D>;
    const JSON: bool = false;
    fn mark(request: HttpRequest) -> HttpRequest {
        request
    }
}

/// The `grpc-json` stack's codec, `application/grpc+json`.
pub struct Json;

impl WireCodec for Json {
    type Codec<E: Wire, D: Wire> = JsonCodec<E, D>;
    const JSON: bool = true;
    fn mark(mut request: HttpRequest) -> HttpRequest {
        request.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(wirebench_proto::json_codec::CONTENT_TYPE),
        );
        request
    }
}

/// A channel to `config`'s next service, lazily connected, marking
/// requests with `C`'s content type.
pub fn channel<C: WireCodec>(config: &PipelineConfig) -> HopChannel {
    let connector = config.hop_connector();
    let channel = Endpoint::from_shared(format!("{}://{}", connector.scheme(), config.upstream()))
        .expect("host:port makes a valid URI")
        .connect_timeout(config.hop_timeout)
        .initial_stream_window_size(GRPC_STREAM_WINDOW_BYTES)
        .initial_connection_window_size(GRPC_CONNECTION_WINDOW_BYTES)
        .connect_with_connector_lazy(connector);
    mark_with::<C>(channel)
}

/// `channel`, its requests marked with `C`'s content type.
pub fn mark_with<C: WireCodec>(channel: Channel) -> HopChannel {
    tower::util::MapRequest::new(channel, C::mark as fn(HttpRequest) -> HttpRequest)
}

/// A hop that sends `R` on one bidirectional stream over `channel`.
pub fn stream_hop<C: WireCodec, R: HopRequest>(
    channel: HopChannel,
    timeout: Duration,
) -> StreamHop<R, R::Answer> {
    let grpc = tonic::client::Grpc::new(channel);
    StreamHop::new(
        move |requests: ReceiverStream<R>| {
            let mut grpc = grpc.clone();
            Box::pin(async move {
                ready(&mut grpc).await?;
                let answers: Streaming<R::Answer> = grpc
                    .streaming(
                        Request::new(requests),
                        PathAndQuery::from_static(R::STREAM_PATH),
                        C::Codec::<R, R::Answer>::default(),
                    )
                    .await?
                    .into_inner();
                Ok(answers)
            })
        },
        timeout,
    )
}

async fn ready(grpc: &mut tonic::client::Grpc<HopChannel>) -> Result<(), Status> {
    grpc.ready()
        .await
        .map_err(|err| Status::unavailable(format!("channel not ready: {err}")))
}

/// The gRPC hop kind, in codec `C`.
pub struct GrpcHops<C>(PhantomData<C>);

impl<C> Default for GrpcHops<C> {
    fn default() -> Self {
        GrpcHops(PhantomData)
    }
}

impl<C: WireCodec> Hops for GrpcHops<C> {
    type To<R: HopRequest> = GrpcHop<C, R>;

    fn to<R: HopRequest>(&self, config: &PipelineConfig) -> GrpcHop<C, R> {
        let channel = channel::<C>(config);
        match config.hop {
            HopMode::Stream => GrpcHop::Stream(stream_hop::<C, R>(channel, config.hop_timeout)),
            HopMode::Unary => GrpcHop::Unary {
                grpc: tonic::client::Grpc::new(channel),
                timeout: config.hop_timeout,
                codec: PhantomData,
            },
        }
    }
}

/// How a role calls the next one: a shared stream, or unary calls.
pub enum GrpcHop<C, R: HopRequest> {
    Stream(StreamHop<R, R::Answer>),
    Unary {
        grpc: tonic::client::Grpc<HopChannel>,
        timeout: Duration,
        codec: PhantomData<fn() -> C>,
    },
}

impl<C: WireCodec, R: HopRequest> GrpcHop<C, R> {
    async fn unary(
        mut grpc: tonic::client::Grpc<HopChannel>,
        request: R,
    ) -> Result<R::Answer, Status> {
        ready(&mut grpc).await?;
        Ok(grpc
            .unary(
                Request::new(request),
                PathAndQuery::from_static(R::UNARY_PATH),
                C::Codec::<R, R::Answer>::default(),
            )
            .await?
            .into_inner())
    }
}

impl<C: WireCodec, R: HopRequest> Upstream<<R::Answer as HopAnswer>::Item> for GrpcHop<C, R> {
    async fn fetch(&self, records: u32) -> Result<Vec<<R::Answer as HopAnswer>::Item>, HopFailure> {
        let request = R::new(0, records);
        let answer = match self {
            GrpcHop::Stream(stream) => stream.call(request).await?,
            GrpcHop::Unary { grpc, timeout, .. } => {
                let call = async {
                    Self::unary(grpc.clone(), request)
                        .await
                        .map_err(|status| match status.code() {
                            // Refused connections and a next service that
                            // says its own next one is missing alike.
                            tonic::Code::Unavailable => {
                                HopFailure::Unreachable(status.message().to_owned())
                            }
                            code => HopFailure::refused_with_code(
                                code as i32,
                                status.message().to_owned(),
                            ),
                        })
                };
                within(*timeout, call).await?
            }
        };
        answer
            .into_items()
            .map_err(|(code, message)| HopFailure::refused_with_code(code, message))
    }
}
