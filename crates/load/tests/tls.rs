//! Every stack over TLS: the handshake negotiates the stack's ALPN, answers
//! are correct, and a client that does not trust the certificate fails to
//! connect (as `connect` errors, not a crash).

mod common;

use std::sync::Arc;
use std::time::Duration;

use wirebench_load::{Client, Connector, ErrorKind, LoadModel, StopAt, TlsClient, Trust, run};
use wirebench_proto::vocab::{Stack, StackKind};
use wirebench_server::tls::CertifiedKey;
use wirebench_server::{PayloadHandler, ServeOptions};

async fn tls_server(stack: Stack, key: &CertifiedKey) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let options = ServeOptions {
        tls: Some(key.server_config(stack.alpn()).unwrap()),
        ..ServeOptions::default()
    };
    tokio::spawn(wirebench_server::serve(
        stack,
        listener,
        PayloadHandler::new(1024),
        options,
        std::future::pending(),
    ));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stack_answers_over_tls_with_its_alpn() {
    let key = CertifiedKey::self_signed().unwrap();
    for kind in StackKind::ALL {
        let stack = Stack::tls(kind);
        let addr = tls_server(stack, &key).await;
        let tls =
            TlsClient::new("localhost", stack.alpn(), &Trust::Pem(key.cert_pem.clone())).unwrap();

        // The handshake itself, and what it agreed on (TCP stacks; QUIC's
        // is checked by the requests below, which need ALPN h3).
        if !stack.is_quic() {
            let connector = Connector {
                addr,
                tls: Some(tls.clone()),
                wire: Default::default(),
            };
            let tokio_util::either::Either::Right(stream) = connector.connect().await.unwrap()
            else {
                panic!("{stack}: not TLS");
            };
            assert_eq!(
                stream.get_ref().1.alpn_protocol(),
                Some(stack.alpn()),
                "{stack}"
            );
            assert_eq!(
                stream.get_ref().1.protocol_version(),
                Some(rustls::ProtocolVersion::TLSv1_3)
            );
        }

        // Real requests through it.
        let mut target = common::payload_target(Stack::plain(kind), addr, 8);
        target.tls = Some(tls);
        let plan = common::plan(
            LoadModel::Fixed { concurrency: 4 },
            StopAt::Requests(100),
            Stack::plain(kind).default_connections(4),
        );
        let client = Arc::new(Client::new(&target, plan.connections()).await.unwrap());
        let outcome = run(&plan, client, std::future::pending()).await;
        assert_eq!(
            outcome.tally.requests_ok,
            100,
            "{stack}: {:?}",
            outcome.tally.errors.by_name()
        );
        // TLS records add to the bytes on the wire.
        assert!(outcome.wire.received > 100 * 8 * 1024, "{stack}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_trust_the_certificate_gets_connect_errors() {
    let key = CertifiedKey::self_signed().unwrap();
    let other = CertifiedKey::self_signed().unwrap();
    let stack = Stack::tls(StackKind::Rest);
    let addr = tls_server(stack, &key).await;
    let mut target = common::payload_target(Stack::REST, addr, 1);
    target.tls =
        Some(TlsClient::new("localhost", stack.alpn(), &Trust::Pem(other.cert_pem)).unwrap());
    let plan = common::plan(
        LoadModel::Fixed { concurrency: 1 },
        StopAt::Duration(Duration::from_millis(300)),
        1,
    );
    let client = Arc::new(Client::new(&target, 1).await.unwrap());
    let outcome = run(&plan, client, std::future::pending()).await;
    assert_eq!(outcome.tally.requests_ok, 0);
    assert!(
        outcome.tally.errors.count(ErrorKind::Connect) > 0,
        "{:?}",
        outcome.tally.errors.by_name()
    );
}
