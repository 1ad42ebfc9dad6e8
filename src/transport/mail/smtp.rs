//! SMTP with lettre: sending one sealed message as an OpenPGP/MIME mail,
//! and checking an account step by step (connect, TLS, login, sender) so
//! that each failure says what to fix.

use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::settings::{MailSettings, Security};
use super::{mime, stream};

const TIMEOUT: Duration = Duration::from_secs(60);

fn tls_parameters(s: &MailSettings) -> Result<TlsParameters> {
    let mut params = TlsParameters::builder(s.smtp.host.clone());
    if let Some(path) = &s.ca_file {
        for cert in stream::ca_certs(path)? {
            params = params.add_root_certificate(Certificate::from_der(cert.to_vec())?);
        }
    }
    Ok(params.build()?)
}

fn credentials(s: &MailSettings) -> Result<Option<Credentials>> {
    let a = &s.smtp;
    (!a.username.is_empty()).then(|| a.password.resolve().map(|p| Credentials::new(a.username.clone(), p))).transpose()
}

/// The transport that sends; built once per `MailTransport` (it reads the
/// CA and password files).
pub fn transport(s: &MailSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let a = &s.smtp;
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&a.host).port(a.port).timeout(Some(TIMEOUT));
    match a.security {
        Security::None => {}
        Security::Tls => builder = builder.tls(Tls::Wrapper(tls_parameters(s)?)),
        Security::Starttls => builder = builder.tls(Tls::Required(tls_parameters(s)?)),
    }
    if let Some(c) = credentials(s)? {
        builder = builder.credentials(c);
    }
    Ok(builder.build())
}

/// Sends one already sealed message to the partner.
pub async fn send(
    t: &AsyncSmtpTransport<Tokio1Executor>,
    s: &MailSettings,
    sync_id: &str,
    name: &str,
    data: &[u8],
) -> Result<()> {
    let to = s.partner_address.as_deref().context("the partner's mail address is not known yet")?;
    let date = chrono::Utc::now().to_rfc2822();
    let mail = mime::encode(&s.address, to, sync_id, name, data, &date);
    let envelope = lettre::address::Envelope::new(Some(s.address.parse()?), vec![to.parse()?])?;
    t.send_raw(&envelope, &mail).await.map_err(|e| {
        let kind = if e.is_permanent() { "refused" } else { "failed (will retry)" };
        anyhow!("sending through {}:{} {kind}: {e}", s.smtp.host, s.smtp.port)
    })?;
    Ok(())
}

/// Connects, secures, logs in and offers our address as sender (and the
/// partner's, or our own, as recipient), then resets: nothing is sent.
pub async fn check(s: &MailSettings) -> Result<()> {
    let a = &s.smtp;
    let at = format!("{}:{}", a.host, a.port);
    let hello = ClientId::default();
    let wrapper = if a.security == Security::Tls { Some(tls_parameters(s)?) } else { None };
    let mut conn = AsyncSmtpConnection::connect_tokio1((a.host.as_str(), a.port), Some(TIMEOUT), &hello, wrapper, None)
        .await
        .map_err(|e| anyhow!("cannot connect to the SMTP server {at}: {e} (host unreachable, wrong port, or its TLS certificate not trusted: see --mail-ca-file)"))?;
    if a.security == Security::Starttls {
        conn.starttls(tls_parameters(s)?, &hello).await.map_err(|e| {
            anyhow!(
                "STARTTLS with {at} failed: {e} (if its certificate is from a private CA, give it with --mail-ca-file)"
            )
        })?;
    }
    if let Some(c) = credentials(s)? {
        conn.auth(&[Mechanism::Plain, Mechanism::Login], &c).await.map_err(|e| {
            anyhow!("SMTP login to {at} as '{}' failed: wrong user name or password? ({e})", a.username)
        })?;
    }
    let from: Address = s.address.parse().with_context(|| format!("'{}' is not a mail address", s.address))?;
    let to: Address = s.partner_address.as_deref().unwrap_or(&s.address).parse()?;
    let refused = |e| anyhow!("the SMTP server {at} does not let '{}' send as <{from}>: {e}", a.username);
    conn.command(Mail::new(Some(from.clone()), vec![])).await.map_err(refused)?;
    conn.command(Rcpt::new(to.clone(), vec![])).await.map_err(refused)?;
    let _ = conn.command(Rset).await;
    let _ = conn.quit().await;
    Ok(())
}
