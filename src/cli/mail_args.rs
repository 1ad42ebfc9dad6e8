//! Mail settings on the command line (`sync create --protocol email`,
//! `sync accept` of an email sync).

use anyhow::{bail, Result};
use clap::Args;

use crate::transport::mail::{Account, MailSettings, Password, Security};

#[derive(Debug, Args)]
#[command(next_help_heading = "Mail (--protocol email)")]
pub struct MailArgs {
    /// Our mail address: the partner sends here; our From.
    #[arg(long)]
    pub mail_address: Option<String>,
    /// IMAP server that holds our mailbox (host name or address).
    #[arg(long)]
    pub imap_host: Option<String>,
    /// IMAP port [default: 993].
    #[arg(long)]
    pub imap_port: Option<u16>,
    /// tls | starttls | none [default: tls].
    #[arg(long)]
    pub imap_security: Option<Security>,
    /// IMAP login name.
    #[arg(long)]
    pub imap_user: Option<String>,
    /// The IMAP password (prefer --imap-password-env or --imap-password-file).
    #[arg(long, hide_env_values = true)]
    pub imap_password: Option<String>,
    /// Name of an environment variable holding the IMAP password.
    #[arg(long)]
    pub imap_password_env: Option<String>,
    /// File holding the IMAP password, or credential:NAME (a systemd
    /// credential).
    #[arg(long)]
    pub imap_password_file: Option<String>,
    /// Mailbox to read [default: INBOX].
    #[arg(long)]
    pub mailbox: Option<String>,
    /// SMTP server (relay) that sends our mails to the partner.
    #[arg(long)]
    pub smtp_host: Option<String>,
    /// SMTP port [default: 587].
    #[arg(long)]
    pub smtp_port: Option<u16>,
    /// tls | starttls | none [default: starttls].
    #[arg(long)]
    pub smtp_security: Option<Security>,
    /// SMTP login name (leave out, with no password, for a relay without login).
    #[arg(long)]
    pub smtp_user: Option<String>,
    /// The SMTP password (prefer --smtp-password-env or --smtp-password-file).
    #[arg(long)]
    pub smtp_password: Option<String>,
    /// Name of an environment variable holding the SMTP password.
    #[arg(long)]
    pub smtp_password_env: Option<String>,
    /// File holding the SMTP password, or credential:NAME (a systemd
    /// credential).
    #[arg(long)]
    pub smtp_password_file: Option<String>,
    /// Use the IMAP user and password for SMTP too.
    #[arg(long)]
    pub same_credentials: bool,
    /// Move taken mails here instead of deleting them.
    #[arg(long)]
    pub done_folder: Option<String>,
    /// IMAP folder for refused mails [default: postern-quarantine].
    #[arg(long)]
    pub quarantine_folder: Option<String>,
    /// Extra CA certificates (PEM) to trust for IMAP and SMTP: a private
    /// CA or a self-signed server.
    #[arg(long)]
    pub mail_ca_file: Option<String>,
    /// Trust the server certificate with this SHA-256 fingerprint (hex, as
    /// `openssl x509 -noout -fingerprint -sha256` prints it), for IMAP and
    /// SMTP: a self-signed server.
    #[arg(long, value_name = "HEX")]
    pub mail_cert_sha256: Option<String>,
    /// Save the sync without first checking the mail accounts.
    #[arg(long)]
    pub skip_mail_test: bool,
    /// All of the above from a TOML file instead of flags (see
    /// examples/email-relay/mail.toml).
    #[arg(long, value_name = "FILE")]
    pub mail_config: Option<std::path::PathBuf>,
}

fn password(what: &str, value: &Option<String>, env: &Option<String>, file: &Option<String>) -> Result<Password> {
    match (value, env, file) {
        (Some(v), None, None) => Ok(Password::Value(v.clone())),
        (None, Some(e), None) => Ok(Password::Env(e.clone())),
        (None, None, Some(f)) => Ok(Password::from_file_flag(f, absolute)?),
        (None, None, None) => {
            bail!("give the {what} password with --{what}-password-env, --{what}-password-file or --{what}-password")
        }
        _ => bail!("give the {what} password one way only"),
    }
}

/// A file the daemon reads later, from wherever it runs: stored absolute,
/// and it must exist now.
pub(super) fn absolute(path: &str) -> Result<String> {
    let p = std::path::absolute(path)?;
    if !p.is_file() {
        bail!("{} does not exist or is not a file", p.display());
    }
    Ok(p.to_string_lossy().into_owned())
}

impl MailArgs {
    /// Whether any mail flag (other than --mail-config) was given.
    pub fn any_flag(&self) -> bool {
        let texts = [
            &self.mail_address,
            &self.imap_host,
            &self.imap_user,
            &self.imap_password,
            &self.imap_password_env,
            &self.imap_password_file,
            &self.mailbox,
            &self.smtp_host,
            &self.smtp_user,
            &self.smtp_password,
            &self.smtp_password_env,
            &self.smtp_password_file,
            &self.done_folder,
            &self.quarantine_folder,
            &self.mail_ca_file,
            &self.mail_cert_sha256,
        ];
        texts.iter().any(|t| t.is_some())
            || self.imap_port.is_some()
            || self.smtp_port.is_some()
            || self.imap_security.is_some()
            || self.smtp_security.is_some()
            || self.same_credentials
    }

    /// Whether any mail setting was given, as flags or a config file.
    pub fn given(&self) -> bool {
        self.any_flag() || self.mail_config.is_some()
    }

    pub fn settings(&self) -> Result<MailSettings> {
        if let Some(path) = &self.mail_config {
            if self.any_flag() {
                bail!("give the mail settings either in --mail-config or as flags, not both");
            }
            return super::mail_config::load(path);
        }
        let need = |v: &Option<String>, flag: &str| {
            v.clone().ok_or_else(|| anyhow::anyhow!("the email protocol needs --{flag}"))
        };
        let address = need(&self.mail_address, "mail-address")?;
        let imap_user = need(&self.imap_user, "imap-user")?;
        let imap_password = password("imap", &self.imap_password, &self.imap_password_env, &self.imap_password_file)?;
        let (smtp_user, smtp_password) = if self.same_credentials {
            (imap_user.clone(), imap_password.clone())
        } else {
            let user = self.smtp_user.clone().unwrap_or_default();
            let pw = if user.is_empty() {
                Password::Value(String::new())
            } else {
                password("smtp", &self.smtp_password, &self.smtp_password_env, &self.smtp_password_file)?
            };
            (user, pw)
        };
        let s = MailSettings {
            imap: Account {
                host: need(&self.imap_host, "imap-host")?,
                port: self.imap_port.unwrap_or(993),
                security: self.imap_security.unwrap_or(Security::Tls),
                username: imap_user,
                password: imap_password,
            },
            mailbox: self.mailbox.clone().unwrap_or_else(|| "INBOX".into()),
            smtp: Account {
                host: need(&self.smtp_host, "smtp-host")?,
                port: self.smtp_port.unwrap_or(587),
                security: self.smtp_security.unwrap_or(Security::Starttls),
                username: smtp_user,
                password: smtp_password,
            },
            address,
            partner_address: None,
            done_folder: self.done_folder.clone(),
            quarantine_folder: self.quarantine_folder.clone().unwrap_or_else(|| "postern-quarantine".into()),
            ca_file: self.mail_ca_file.as_deref().map(absolute).transpose()?,
            cert_sha256: self.mail_cert_sha256.clone(),
        };
        s.check()?;
        Ok(s)
    }
}
