//! TLS for IMAP and SMTP alike (rustls, ring): the web PKI roots plus the
//! certificates of `--mail-ca-file`, and pinning. A certificate in that
//! file, or one whose SHA-256 the admin gave (`--mail-cert-sha256`), is
//! trusted when the server presents it as its own, whatever it says of
//! itself: the self-signed `CA:TRUE` certificates that `openssl req -x509`
//! makes and many small servers and appliances use. The server must still
//! prove it holds the certificate's key (the handshake signature is
//! checked as always). A refusal says what is wrong with the certificate.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _, Result};
use sha2::Digest;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use tokio_rustls::rustls::pki_types::{pem::PemObject, CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, SignatureScheme};

use super::settings::{parse_sha256, MailSettings};

/// What a mail connection trusts.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// `--mail-ca-file`.
    pub ca_file: Option<String>,
    /// `--mail-cert-sha256`: hex, colons allowed.
    pub cert_sha256: Option<String>,
}

impl Trust {
    pub fn of(s: &MailSettings) -> Self {
        Trust { ca_file: s.ca_file.clone(), cert_sha256: s.cert_sha256.clone() }
    }
}

/// The certificates of a CA file (PEM), read once; an error says which
/// file and what is wrong with it.
pub fn ca_certs(path: &str) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read the CA file {path}"))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("the CA file {path} holds a damaged certificate"))?;
    if certs.is_empty() {
        bail!("the CA file {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    Ok(certs)
}

#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
    pinned_sha256: Option<[u8; 32]>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        let pinned = self.pinned.iter().any(|c| c.as_ref() == end_entity.as_ref())
            || self.pinned_sha256.is_some_and(|h| h[..] == sha2::Sha256::digest(end_entity.as_ref())[..]);
        if pinned {
            return Ok(ServerCertVerified::assertion());
        }
        self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

fn config(trust: &Trust) -> Result<tokio_rustls::rustls::ClientConfig> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let pinned = match &trust.ca_file {
        Some(path) => ca_certs(path)?,
        None => Vec::new(),
    };
    for cert in &pinned {
        // A certificate webpki cannot take as a root (a malformed one) is
        // still pinned.
        let _ = roots.add(cert.clone());
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()?;
    let pinned_sha256 = trust.cert_sha256.as_deref().map(parse_sha256).transpose()?;
    let verifier = Verifier { webpki, pinned, pinned_sha256, provider: provider.clone() };
    Ok(tokio_rustls::rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// TLS over `tcp` with the server `host:port`, as `what` (IMAP, SMTP).
pub async fn connect(what: &str, host: &str, port: u16, tcp: TcpStream, trust: &Trust) -> Result<TlsStream<TcpStream>> {
    let config = config(trust)?;
    let name =
        ServerName::try_from(host.to_string()).with_context(|| format!("'{host}' is not a valid server name"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| anyhow!("TLS with the {what} server {host}:{port} failed: {}", explain(&e, trust)))
}

/// A TLS failure in words an admin can act on.
fn explain(e: &std::io::Error, trust: &Trust) -> String {
    let cert = e.get_ref().and_then(|inner| inner.downcast_ref::<TlsError>()).and_then(|t| match t {
        TlsError::InvalidCertificate(c) => Some(c.clone()),
        _ => None,
    });
    let given = if trust.ca_file.is_some() || trust.cert_sha256.is_some() {
        "the certificate or fingerprint given does not match the one the server presents; "
    } else {
        ""
    };
    match cert {
        Some(CertificateError::UnknownIssuer) => format!(
            "its certificate is not signed by a known authority ({given}if it comes from a private CA, give that \
             CA with --mail-ca-file; if it is self-signed, give the certificate itself or pin it with \
             --mail-cert-sha256)"
        ),
        Some(CertificateError::Other(o)) if o.to_string().contains("CaUsedAsEndEntity") => format!(
            "the server presents a CA certificate (CA:TRUE, as `openssl req -x509` makes) as its own ({given}give \
             that very certificate with --mail-ca-file, or pin it with --mail-cert-sha256)"
        ),
        Some(CertificateError::NotValidForName) | Some(CertificateError::NotValidForNameContext { .. }) => {
            "its certificate is for another host name: connect by the name the certificate carries".into()
        }
        Some(CertificateError::Expired) | Some(CertificateError::ExpiredContext { .. }) => {
            "its certificate has expired".into()
        }
        Some(CertificateError::NotValidYet) | Some(CertificateError::NotValidYetContext { .. }) => {
            "its certificate is not valid yet (is this machine's clock right?)".into()
        }
        Some(other) => format!("{} ({given}see --mail-ca-file)", TlsError::InvalidCertificate(other)),
        None => format!("{e}"),
    }
}
