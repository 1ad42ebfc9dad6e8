//! SMTP: sending sealed messages as OpenPGP/MIME mails, and checking an
//! account step by step (connect, TLS, login, sender) so that each failure
//! says what to fix. The connection and its TLS are ours (the same trust
//! as IMAP, pinning included); lettre speaks SMTP over it. Every step has
//! a time limit, so a throttling or stuck server cannot hold a cycle.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream};
use lettre::transport::smtp::commands::{Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::ClientId;
use lettre::Address;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::settings::{MailSettings, Security};
use super::{mime, tls};

/// Longest wait for one step (connect, TLS, a command, a message).
pub const TIMEOUT: Duration = Duration::from_secs(30);

async fn limited<T>(what: &str, at: &str, f: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    tokio::time::timeout(TIMEOUT, f)
        .await
        .map_err(|_| anyhow!("the SMTP server {at} did not answer within {}s ({what})", TIMEOUT.as_secs()))?
}

fn credentials(s: &MailSettings) -> Result<Option<Credentials>> {
    let a = &s.smtp;
    (!a.username.is_empty()).then(|| a.password.resolve().map(|p| Credentials::new(a.username.clone(), p))).transpose()
}

/// A connection ready to send: connected, secured as configured, logged in.
pub async fn connect(s: &MailSettings) -> Result<AsyncSmtpConnection> {
    let a = &s.smtp;
    let at = format!("{}:{}", a.host, a.port);
    let hello = ClientId::default();
    let trust = tls::Trust::of(s);
    let tcp = limited("connecting", &at, async {
        TcpStream::connect((a.host.as_str(), a.port))
            .await
            .with_context(|| format!("cannot reach the SMTP server {at} (host unreachable or wrong port?)"))
    })
    .await?;
    let stream: Box<dyn AsyncTokioStream> = match a.security {
        Security::None => Box::new(tcp),
        Security::Tls => Box::new(Secured::new(
            limited("TLS", &at, tls::connect("SMTP", &a.host, a.port, tcp, &trust)).await?,
            false,
        )),
        Security::Starttls => {
            let tcp = limited("STARTTLS", &at, starttls(tcp, &at)).await?;
            let secured = limited("TLS", &at, tls::connect("SMTP", &a.host, a.port, tcp, &trust)).await?;
            Box::new(Secured::new(secured, true))
        }
    };
    let mut conn = limited("greeting", &at, async {
        AsyncSmtpConnection::connect_with_transport(stream, &hello)
            .await
            .map_err(|e| anyhow!("the SMTP server {at} did not greet properly: {e}"))
    })
    .await?;
    if let Some(c) = credentials(s)? {
        limited("login", &at, async {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], &c).await.map_err(|e| {
                anyhow!("SMTP login to {at} as '{}' failed: wrong user name or password? ({e})", a.username)
            })
        })
        .await?;
    }
    Ok(conn)
}

/// STARTTLS (RFC 3207) on a fresh connection: greeting, EHLO, STARTTLS.
/// Returns the connection ready for the TLS handshake.
async fn starttls(tcp: TcpStream, at: &str) -> Result<TcpStream> {
    let mut io = BufReader::new(tcp);
    let reply = |code: &'static str, lines: Vec<String>| -> Result<()> {
        match lines.last() {
            Some(l) if l.starts_with(code) => Ok(()),
            _ => Err(anyhow!("the SMTP server {at} answered '{}'", lines.join(" | ").trim())),
        }
    };
    reply("220", read_reply(&mut io).await?)?;
    io.get_mut().write_all(b"EHLO postern\r\n").await?;
    let ehlo = read_reply(&mut io).await?;
    reply("250", ehlo.clone())?;
    if !ehlo.iter().any(|l| l.get(4..).is_some_and(|c| c.trim().eq_ignore_ascii_case("STARTTLS"))) {
        anyhow::bail!("the SMTP server {at} does not offer STARTTLS; try --smtp-security tls on port 465");
    }
    io.get_mut().write_all(b"STARTTLS\r\n").await?;
    reply("220", read_reply(&mut io).await?)
        .map_err(|e| anyhow!("{e}: it refused STARTTLS; try --smtp-security tls on port 465"))?;
    Ok(io.into_inner())
}

/// One SMTP reply: its lines (`250-…` continues, `250 …` ends).
async fn read_reply(io: &mut BufReader<TcpStream>) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if io.read_line(&mut line).await? == 0 {
            anyhow::bail!("the connection closed");
        }
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line.trim_end().to_string());
        if last || lines.len() > 100 {
            return Ok(lines);
        }
    }
}

/// Sends one already sealed message to the partner.
pub async fn send(
    conn: &mut AsyncSmtpConnection,
    s: &MailSettings,
    sync_id: &str,
    name: &str,
    data: &[u8],
) -> Result<()> {
    let at = format!("{}:{}", s.smtp.host, s.smtp.port);
    let to = s.partner_address.as_deref().context("the partner's mail address is not known yet")?;
    let date = chrono::Utc::now().to_rfc2822();
    let mail = mime::encode(&s.address, to, sync_id, name, data, &date);
    let envelope = lettre::address::Envelope::new(Some(s.address.parse()?), vec![to.parse()?])?;
    limited("sending", &at, async {
        conn.send(&envelope, &mail).await.map_err(|e| {
            let kind = if e.is_permanent() { "refused" } else { "failed (will retry)" };
            anyhow!("sending through {at} {kind}: {e}")
        })
    })
    .await?;
    Ok(())
}

/// Connects, secures, logs in and offers our address as sender (and the
/// partner's, or our own, as recipient), then resets: nothing is sent.
pub async fn check(s: &MailSettings) -> Result<()> {
    let a = &s.smtp;
    let at = format!("{}:{}", a.host, a.port);
    let mut conn = connect(s).await?;
    let from: Address = s.address.parse().with_context(|| format!("'{}' is not a mail address", s.address))?;
    let to: Address = s.partner_address.as_deref().unwrap_or(&s.address).parse()?;
    let refused = |e| anyhow!("the SMTP server {at} does not let '{}' send as <{from}>: {e}", a.username);
    limited("MAIL FROM", &at, async { conn.command(Mail::new(Some(from.clone()), vec![])).await.map_err(refused) })
        .await?;
    limited("RCPT TO", &at, async { conn.command(Rcpt::new(to.clone(), vec![])).await.map_err(refused) }).await?;
    let _ = limited("RSET", &at, async { Ok(conn.command(Rset).await?) }).await;
    let _ = limited("QUIT", &at, async { Ok(conn.quit().await?) }).await;
    Ok(())
}

/// A TLS connection for lettre. After STARTTLS the server sends no new
/// greeting, but lettre reads one before its EHLO: this stream gives it one.
#[derive(Debug)]
struct Secured {
    tls: TlsStream<TcpStream>,
    greeting: &'static [u8],
}

impl Secured {
    fn new(tls: TlsStream<TcpStream>, after_starttls: bool) -> Self {
        let greeting: &[u8] = if after_starttls { b"220 TLS started\r\n" } else { b"" };
        Secured { tls, greeting }
    }
}

impl AsyncTokioStream for Secured {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.tls.get_ref().0.peer_addr()
    }
}

impl AsyncRead for Secured {
    fn poll_read(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        if !this.greeting.is_empty() {
            let n = this.greeting.len().min(buf.remaining());
            buf.put_slice(&this.greeting[..n]);
            this.greeting = &this.greeting[n..];
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.tls).poll_read(cx, buf)
    }
}

impl AsyncWrite for Secured {
    fn poll_write(self: Pin<&mut Self>, cx: &mut TaskContext<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().tls).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tls).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().tls).poll_shutdown(cx)
    }
}
