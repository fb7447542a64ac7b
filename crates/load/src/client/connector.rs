//! Opening a client connection: TCP (no Nagle), counted at the socket, then
//! TLS with the stack's ALPN when the stack is `+tls`. Every protocol client
//! connects through here, so "bytes on the wire" means the same thing for
//! every stack: what crossed the socket, headers, framing and TLS included.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_util::either::Either;

/// Bytes that crossed the sockets of one client, both directions.
#[derive(Debug, Default)]
pub struct WireCounters {
    sent: AtomicU64,
    received: AtomicU64,
    /// The TLS version the first handshake negotiated ("TLS 1.3"): the
    /// client offers 1.2 and 1.3, so what the trial ran over is recorded,
    /// not assumed.
    tls_version: std::sync::OnceLock<&'static str>,
}

/// A reading of [`WireCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WireBytes {
    pub sent: u64,
    pub received: u64,
}

impl WireBytes {
    pub fn since(self, earlier: WireBytes) -> WireBytes {
        WireBytes {
            sent: self.sent.saturating_sub(earlier.sent),
            received: self.received.saturating_sub(earlier.received),
        }
    }

    pub fn plus(self, other: WireBytes) -> WireBytes {
        WireBytes {
            sent: self.sent + other.sent,
            received: self.received + other.received,
        }
    }
}

impl WireCounters {
    /// The TLS version negotiated, once a TLS connection was made.
    pub fn tls_version(&self) -> Option<&'static str> {
        self.tls_version.get().copied()
    }

    pub fn read(&self) -> WireBytes {
        WireBytes {
            sent: self.sent.load(Ordering::Relaxed),
            received: self.received.load(Ordering::Relaxed),
        }
    }
}

/// TLS settings of a client: which ALPN to offer, which certificates to
/// trust.
#[derive(Clone)]
pub struct TlsClient {
    pub config: Arc<rustls::ClientConfig>,
    pub server_name: ServerName<'static>,
}

impl std::fmt::Debug for TlsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TlsClient({:?}, alpn {:?})",
            self.server_name, self.config.alpn_protocols
        )
    }
}

/// Which certificates a TLS client trusts.
#[derive(Debug, Clone)]
pub enum Trust {
    /// Any certificate (`--insecure`, like curl -k or ghz --skipTLS): for
    /// servers with self-signed certificates.
    Anything,
    /// Certificates signed by these PEM certificates.
    Pem(String),
}

/// A client certificate and its key, PEM (`--cert`, `--key`): mutual TLS.
#[derive(Clone)]
pub struct Identity {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TlsClient {
    pub fn new(host: &str, alpn: &[u8], trust: &Trust) -> Result<TlsClient, String> {
        TlsClient::with_identity(host, alpn, trust, None)
    }

    /// A client that presents `identity` when the server asks for a
    /// certificate (mTLS, ghz's `--cert`/`--key`).
    pub fn with_identity(
        host: &str,
        alpn: &[u8],
        trust: &Trust,
        identity: Option<&Identity>,
    ) -> Result<TlsClient, String> {
        use rustls::pki_types::pem::PemObject;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?;
        let verified = match trust {
            Trust::Anything => builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnything(provider))),
            Trust::Pem(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                    roots
                        .add(cert.map_err(|e| e.to_string())?)
                        .map_err(|e| e.to_string())?;
                }
                builder.with_root_certificates(roots)
            }
        };
        let mut config = match identity {
            None => verified.with_no_client_auth(),
            Some(identity) => {
                let certs = CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| format!("the client certificate: {e}"))?;
                if certs.is_empty() {
                    return Err("the client certificate file has no PEM certificate".into());
                }
                let key =
                    rustls::pki_types::PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes())
                        .map_err(|e| format!("the client key: {e}"))?;
                verified
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| format!("the client certificate and key: {e}"))?
            }
        };
        config.alpn_protocols = vec![alpn.to_vec()];
        let server_name =
            ServerName::try_from(host.to_owned()).map_err(|e| format!("'{host}': {e}"))?;
        Ok(TlsClient {
            config: Arc::new(config),
            server_name,
        })
    }
}

/// Opens connections to one address.
#[derive(Debug, Clone)]
pub struct Connector {
    pub addr: SocketAddr,
    pub tls: Option<TlsClient>,
    pub wire: Arc<WireCounters>,
}

impl Connector {
    pub async fn connect(&self) -> io::Result<ClientStream> {
        let tcp = TcpStream::connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        let counted = Counted {
            inner: tcp,
            wire: Arc::clone(&self.wire),
        };
        match &self.tls {
            None => Ok(Either::Left(counted)),
            Some(tls) => {
                let stream = TlsConnector::from(Arc::clone(&tls.config))
                    .connect(tls.server_name.clone(), counted)
                    .await?;
                if let Some(version) = stream.get_ref().1.protocol_version() {
                    self.wire.tls_version.get_or_init(|| match version {
                        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3",
                        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2",
                        _ => "TLS (another version)",
                    });
                }
                Ok(Either::Right(Box::new(stream)))
            }
        }
    }
}

/// A TCP stream that counts what crosses it.
#[derive(Debug)]
pub struct Counted {
    inner: TcpStream,
    wire: Arc<WireCounters>,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        if read > 0 {
            this.wire.received.fetch_add(read as u64, Ordering::Relaxed);
        }
        result
    }
}

impl Counted {
    /// Counts what a write sent.
    fn sent(&self, result: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        if let Poll::Ready(Ok(n)) = result {
            self.wire.sent.fetch_add(n as u64, Ordering::Relaxed);
        }
        result
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.sent(result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.sent(result)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A client connection, plain or TLS (tokio-util's `Either` forwards every
/// read and write, vectored ones included).
pub type ClientStream = Either<Counted, Box<TlsStream<Counted>>>;

/// Accepts any server certificate: wirebench's own servers use self-signed
/// certificates made at start. Signatures are still checked, so the
/// handshake costs what a verifying client's costs, minus the chain walk.
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
