//! The IMAP connection: plain TCP (loopback, tests), implicit TLS or
//! STARTTLS, with rustls (web PKI roots plus an optional extra CA file).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use anyhow::{anyhow, bail, Context as _, Result};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{pem::PemObject, CertificateDer};

use super::settings::Security;

#[derive(Debug)]
pub enum ImapStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// Connects and reads the greeting: plain, implicit TLS, or plain then
/// STARTTLS (RFC 3501 6.2.1). Returns a client ready to log in.
pub async fn connect(
    host: &str,
    port: u16,
    security: Security,
    ca_file: Option<&str>,
) -> Result<async_imap::Client<ImapStream>> {
    let tcp = TcpStream::connect((host, port))
        .await
        .with_context(|| format!("cannot reach the IMAP server {host}:{port} (host unreachable or wrong port?)"))?;
    let closed = || anyhow!("the IMAP server {host}:{port} closed the connection before greeting");
    let stream = match security {
        Security::None => ImapStream::Plain(tcp),
        Security::Tls => ImapStream::Tls(Box::new(tls(host, port, tcp, ca_file).await?)),
        Security::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            client.read_response().await?.ok_or_else(closed)?;
            client.run_command_and_check_ok("STARTTLS", None).await.map_err(|e| {
                anyhow!("the IMAP server {host}:{port} refused STARTTLS ({e}); try --imap-security tls on port 993")
            })?;
            let tls = tls(host, port, client.into_inner(), ca_file).await?;
            // No second greeting after STARTTLS.
            return Ok(async_imap::Client::new(ImapStream::Tls(Box::new(tls))));
        }
    };
    let mut client = async_imap::Client::new(stream);
    client.read_response().await?.ok_or_else(closed)?;
    Ok(client)
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

/// The roots a mail connection trusts: the web PKI plus the certificates
/// in `ca_file` (a private CA or a self-signed server), if given.
fn roots(ca_file: Option<&str>) -> Result<tokio_rustls::rustls::RootCertStore> {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in ca_certs(path)? {
            roots.add(cert)?;
        }
    }
    Ok(roots)
}

async fn tls(host: &str, port: u16, tcp: TcpStream, ca_file: Option<&str>) -> Result<TlsStream<TcpStream>> {
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots(ca_file)?)
    .with_no_client_auth();
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .with_context(|| format!("'{host}' is not a valid server name"))?;
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| {
        anyhow!("TLS with {host}:{port} failed: {e} (if the server's certificate is self-signed or from a private CA, give that CA with --mail-ca-file)")
    })
}

impl AsyncRead for ImapStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}
