//! TLS for every stack: rustls (ring), a self-signed certificate made with
//! rcgen when none is given, ALPN per stack (h2 for HTTP/2 and gRPC,
//! http/1.1 for HTTP/1.1, wirebench-tcp for the TCP ceiling).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot read {path}: {why}")]
    Read { path: String, why: String },
    #[error("TLS set-up failed: {0}")]
    Rustls(#[from] rustls::Error),
}

/// A certificate and its key, PEM.
#[derive(Debug, Clone)]
pub struct CertifiedKey {
    pub cert_pem: String,
    pub key_pem: String,
}

impl CertifiedKey {
    /// A self-signed certificate for localhost and the loopback addresses.
    pub fn self_signed() -> Result<CertifiedKey, TlsError> {
        let names = vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ];
        let rcgen::CertifiedKey { cert, signing_key } = rcgen::generate_simple_self_signed(names)?;
        Ok(CertifiedKey {
            cert_pem: cert.pem(),
            key_pem: signing_key.serialize_pem(),
        })
    }

    pub fn from_files(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|err| TlsError::Read {
                path: path.display().to_string(),
                why: err.to_string(),
            })
        };
        Ok(CertifiedKey {
            cert_pem: read(cert)?,
            key_pem: read(key)?,
        })
    }

    /// A server configuration offering `alpn`.
    pub fn server_config(&self, alpn: &[u8]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        self.server_config_for(alpn, None)
    }

    /// A server configuration offering `alpn` that, given `client_ca_pem`,
    /// requires every client to present a certificate signed by one of its
    /// certificates (mutual TLS, `serve --tls-client-ca`).
    pub fn server_config_for(
        &self,
        alpn: &[u8],
        client_ca_pem: Option<&str>,
    ) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let bad = |why: String| TlsError::Read {
            path: "certificate".into(),
            why,
        };
        let certs: Vec<CertificateDer<'static>> =
            CertificateDer::pem_slice_iter(self.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .map_err(|e| bad(e.to_string()))?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|e| bad(e.to_string()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?;
        let builder = match client_ca_pem {
            None => builder.with_no_client_auth(),
            Some(pem) => {
                let roots = roots_of(pem, "client CA")?;
                let verifier =
                    rustls::server::WebPkiClientVerifier::builder_with_provider(roots, provider)
                        .build()
                        .map_err(|e| TlsError::Read {
                            path: "client CA".into(),
                            why: e.to_string(),
                        })?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_single_cert(certs, key)?;
        config.alpn_protocols = vec![alpn.to_vec()];
        Ok(Arc::new(config))
    }
}

/// The client side of a `+tls` hop between pipeline services: trusts the
/// PEM certificates in `trusted_pem` (the services' shared certificate, or
/// `--upstream-ca`) and offers `alpn`.
pub fn client_config(
    trusted_pem: &str,
    alpn: &[u8],
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let roots = roots_of(trusted_pem, "trusted certificate")?;
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    Ok(Arc::new(config))
}

/// The PEM certificates in `pem` as trust anchors; `what` names them in
/// errors. None at all is an error.
fn roots_of(pem: &str, what: &str) -> Result<Arc<rustls::RootCertStore>, TlsError> {
    let bad = |why: String| TlsError::Read {
        path: what.to_owned(),
        why,
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.map_err(|e| bad(e.to_string()))?)?;
    }
    if roots.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(Arc::new(roots))
}
