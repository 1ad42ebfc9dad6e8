//! The IMAP connection: plain TCP (loopback, tests), implicit TLS or
//! STARTTLS, with the trust of [`super::tls`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::{anyhow, Context as _, Result};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::settings::Security;
use super::tls::{self, Trust};

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
    trust: &Trust,
) -> Result<async_imap::Client<ImapStream>> {
    let tcp = tokio::time::timeout(super::smtp::TIMEOUT, TcpStream::connect((host, port)))
        .await
        .map_err(|_| {
            anyhow!("the IMAP server {host}:{port} did not answer within {}s", super::smtp::TIMEOUT.as_secs())
        })?
        .with_context(|| format!("cannot reach the IMAP server {host}:{port} (host unreachable or wrong port?)"))?;
    let closed = || anyhow!("the IMAP server {host}:{port} closed the connection before greeting");
    let stream = match security {
        Security::None => ImapStream::Plain(tcp),
        Security::Tls => ImapStream::Tls(Box::new(tls::connect("IMAP", host, port, tcp, trust).await?)),
        Security::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            greeting(&mut client, host, port).await?.ok_or_else(closed)?;
            client.run_command_and_check_ok("STARTTLS", None).await.map_err(|e| {
                anyhow!(
                    "the IMAP server {host}:{port} refused STARTTLS ({}); try --imap-security tls on port 993",
                    super::words(&e)
                )
            })?;
            let tls = tls::connect("IMAP", host, port, client.into_inner(), trust).await?;
            // No second greeting after STARTTLS.
            return Ok(async_imap::Client::new(ImapStream::Tls(Box::new(tls))));
        }
    };
    let mut client = async_imap::Client::new(stream);
    greeting(&mut client, host, port).await?.ok_or_else(closed)?;
    Ok(client)
}

/// The server's greeting; one that is not IMAP's (an SMTP or POP3 server
/// on that port) is said in words, not as the parser's dump.
async fn greeting<T>(client: &mut async_imap::Client<T>, host: &str, port: u16) -> Result<Option<()>>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match client.read_response().await {
        Ok(r) => Ok(r.map(|_| ())),
        Err(e) if e.kind() == io::ErrorKind::Other || e.kind() == io::ErrorKind::InvalidData => Err(anyhow!(
            "the server at {host}:{port} does not greet as an IMAP server does (an SMTP or POP3 port? IMAP is \
             usually 143, or 993 with TLS)"
        )),
        Err(e) => Err(e.into()),
    }
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
