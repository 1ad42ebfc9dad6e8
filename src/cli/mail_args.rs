//! Mail settings on the command line (`sync create --protocol email`,
//! `sync accept` of an email sync).

use anyhow::{bail, Result};
use clap::Args;

use crate::transport::mail::{Account, MailSettings, Password, Security};

#[derive(Debug, Args)]
pub struct MailArgs {
    /// Our mail address: the partner sends here; our From.
    #[arg(long)]
    pub mail_address: Option<String>,
    #[arg(long)]
    pub imap_host: Option<String>,
    #[arg(long, default_value_t = 993)]
    pub imap_port: u16,
    /// tls | starttls | none.
    #[arg(long, default_value = "tls")]
    pub imap_security: Security,
    #[arg(long)]
    pub imap_user: Option<String>,
    /// The IMAP password (prefer --imap-password-env or --imap-password-file).
    #[arg(long, hide_env_values = true)]
    pub imap_password: Option<String>,
    /// Name of an environment variable holding the IMAP password.
    #[arg(long)]
    pub imap_password_env: Option<String>,
    /// File holding the IMAP password.
    #[arg(long)]
    pub imap_password_file: Option<String>,
    #[arg(long, default_value = "INBOX")]
    pub mailbox: String,
    #[arg(long)]
    pub smtp_host: Option<String>,
    #[arg(long, default_value_t = 587)]
    pub smtp_port: u16,
    /// tls | starttls | none.
    #[arg(long, default_value = "starttls")]
    pub smtp_security: Security,
    #[arg(long)]
    pub smtp_user: Option<String>,
    #[arg(long)]
    pub smtp_password: Option<String>,
    #[arg(long)]
    pub smtp_password_env: Option<String>,
    #[arg(long)]
    pub smtp_password_file: Option<String>,
    /// Use the IMAP user and password for SMTP too.
    #[arg(long)]
    pub same_credentials: bool,
    /// Move taken mails here instead of deleting them.
    #[arg(long)]
    pub done_folder: Option<String>,
    /// IMAP folder for refused mails.
    #[arg(long, default_value = "postern-quarantine")]
    pub quarantine_folder: String,
    /// Extra CA certificates (PEM) to trust for IMAP and SMTP: a private
    /// CA or a self-signed server.
    #[arg(long)]
    pub mail_ca_file: Option<String>,
}

fn password(what: &str, value: &Option<String>, env: &Option<String>, file: &Option<String>) -> Result<Password> {
    match (value, env, file) {
        (Some(v), None, None) => Ok(Password::Value(v.clone())),
        (None, Some(e), None) => Ok(Password::Env(e.clone())),
        (None, None, Some(f)) => Ok(Password::File(absolute(f)?)),
        (None, None, None) => {
            bail!("give the {what} password with --{what}-password-env, --{what}-password-file or --{what}-password")
        }
        _ => bail!("give the {what} password one way only"),
    }
}

/// A file the daemon reads later, from wherever it runs: stored absolute,
/// and it must exist now.
fn absolute(path: &str) -> Result<String> {
    let p = std::path::absolute(path)?;
    if !p.is_file() {
        bail!("{} does not exist or is not a file", p.display());
    }
    Ok(p.to_string_lossy().into_owned())
}

impl MailArgs {
    pub fn settings(&self) -> Result<MailSettings> {
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
                port: self.imap_port,
                security: self.imap_security,
                username: imap_user,
                password: imap_password,
            },
            mailbox: self.mailbox.clone(),
            smtp: Account {
                host: need(&self.smtp_host, "smtp-host")?,
                port: self.smtp_port,
                security: self.smtp_security,
                username: smtp_user,
                password: smtp_password,
            },
            address,
            partner_address: None,
            done_folder: self.done_folder.clone(),
            quarantine_folder: self.quarantine_folder.clone(),
            ca_file: self.mail_ca_file.as_deref().map(absolute).transpose()?,
        };
        s.check()?;
        Ok(s)
    }
}
