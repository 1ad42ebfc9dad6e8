//! A sync's mail settings from a TOML file (`--mail-config`), the way a
//! deployment keeps them (see `examples/email-relay/mail.toml`). Paths in
//! the file are relative to the file's folder.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use crate::transport::mail::{Account, MailSettings, Password, Security};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MailConfig {
    /// Our address: the partner sends here; our From.
    address: String,
    #[serde(default = "inbox")]
    mailbox: String,
    done_folder: Option<String>,
    #[serde(default = "quarantine")]
    quarantine_folder: String,
    ca_file: Option<PathBuf>,
    /// A server certificate pinned by its SHA-256.
    cert_sha256: Option<String>,
    /// Use the IMAP user and password for SMTP too.
    #[serde(default)]
    same_credentials: bool,
    imap: AccountConfig,
    smtp: AccountConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountConfig {
    host: String,
    port: Option<u16>,
    security: Option<Security>,
    #[serde(default)]
    username: String,
    password: Option<String>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
}

fn inbox() -> String {
    "INBOX".into()
}

fn quarantine() -> String {
    "postern-quarantine".into()
}

impl AccountConfig {
    fn account(self, what: &str, dir: &Path, default_port: u16, default_security: Security) -> Result<Account> {
        let password = match (self.password, self.password_env, self.password_file) {
            (Some(v), None, None) => Password::Value(v),
            (None, Some(e), None) => Password::Env(e),
            (None, None, Some(f)) => Password::from_file_flag(&f.to_string_lossy(), |f| existing(dir, Path::new(f)))?,
            (None, None, None) if self.username.is_empty() => Password::Value(String::new()),
            (None, None, None) => bail!("[{what}] needs one of password_file, password_env or password"),
            _ => bail!(
                "[{what}] gives the password more than one way: keep one of password_file, password_env, password"
            ),
        };
        Ok(Account {
            host: self.host,
            port: self.port.unwrap_or(default_port),
            security: self.security.unwrap_or(default_security),
            username: self.username,
            password,
        })
    }
}

/// `path` made absolute against `dir`; it must exist now (the daemon reads
/// it later, from wherever it runs).
fn existing(dir: &Path, path: &Path) -> Result<String> {
    let p = std::path::absolute(dir.join(path))?;
    if !p.is_file() {
        bail!("{} does not exist or is not a file", p.display());
    }
    Ok(p.to_string_lossy().into_owned())
}

/// Reads and checks a mail config file.
pub fn load(path: &Path) -> Result<MailSettings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read the mail config {}", path.display()))?;
    let cfg: MailConfig = toml::from_str(&text).map_err(|e| anyhow::anyhow!("mail config {}: {e}", path.display()))?;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let literal = cfg.imap.password.is_some() || cfg.smtp.password.is_some();
    if literal {
        warn_if_readable(path);
    }
    let imap =
        cfg.imap.account("imap", dir, 993, Security::Tls).with_context(|| format!("mail config {}", path.display()))?;
    let smtp = if cfg.same_credentials {
        let s = cfg.smtp;
        if s.password.is_some() || s.password_env.is_some() || s.password_file.is_some() || !s.username.is_empty() {
            bail!(
                "mail config {}: same_credentials = true, so [smtp] must give neither username nor password",
                path.display()
            );
        }
        Account {
            host: s.host,
            port: s.port.unwrap_or(587),
            security: s.security.unwrap_or(Security::Starttls),
            username: imap.username.clone(),
            password: imap.password.clone(),
        }
    } else {
        cfg.smtp
            .account("smtp", dir, 587, Security::Starttls)
            .with_context(|| format!("mail config {}", path.display()))?
    };
    let settings = MailSettings {
        imap,
        mailbox: cfg.mailbox,
        smtp,
        address: cfg.address,
        partner_address: None,
        done_folder: cfg.done_folder,
        quarantine_folder: cfg.quarantine_folder,
        ca_file: cfg
            .ca_file
            .map(|f| existing(dir, &f))
            .transpose()
            .with_context(|| format!("mail config {}", path.display()))?,
        cert_sha256: cfg.cert_sha256,
    };
    settings.check().with_context(|| format!("mail config {}", path.display()))?;
    Ok(settings)
}

#[cfg(unix)]
fn warn_if_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path) {
        if m.permissions().mode() & 0o077 != 0 {
            eprintln!(
                "warning: {} holds a password and others can read it; chmod 600 it, or use password_file",
                path.display()
            );
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_relay_config_with_paths_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "imap-password", "secret\n");
        write(dir.path(), "ca.pem", "-----BEGIN CERTIFICATE-----\n");
        let cfg = write(
            dir.path(),
            "mail.toml",
            r#"
address = "postern-sync@customer.example"
done_folder = "postern-done"
ca_file = "ca.pem"
same_credentials = true
[imap]
host = "imap.customer.example"
username = "postern-sync@customer.example"
password_file = "imap-password"
[smtp]
host = "relay.customer.example"
"#,
        );
        let s = load(&cfg).unwrap();
        assert_eq!((s.imap.port, s.imap.security), (993, Security::Tls));
        assert_eq!((s.smtp.port, s.smtp.security), (587, Security::Starttls));
        assert_eq!(s.smtp.username, "postern-sync@customer.example");
        assert_eq!(s.smtp.password, s.imap.password);
        assert_eq!(s.mailbox, "INBOX");
        assert!(s.ca_file.unwrap().starts_with(dir.path().to_str().unwrap()));
        assert_eq!(s.imap.password.resolve().unwrap(), "secret");
    }

    #[test]
    fn mistakes_name_the_file_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("address = \"a@b\"\n[imap]\nhost = \"h\"\nusername = \"u\"\n[smtp]\nhost = \"h\"\n", "password_file"),
            ("address = \"a@b\"\nport = 1\n", "unknown field `port`"),
            ("address = \"a@b\"\n[imap]\nhost = \"h\"\nsecurity = \"ssl\"\n[smtp]\nhost = \"h\"\n", "security"),
            (
                "address = \"a@b\"\nca_file = \"missing.pem\"\n[imap]\nhost = \"h\"\n[smtp]\nhost = \"h\"\n",
                "missing.pem does not exist",
            ),
            ("address = \"nobody\"\n[imap]\nhost = \"h\"\n[smtp]\nhost = \"h\"\n", "not a mail address"),
        ];
        for (i, (text, why)) in cases.iter().enumerate() {
            let p = write(dir.path(), &format!("c{i}.toml"), text);
            let err = format!("{:#}", load(&p).unwrap_err());
            assert!(err.contains(&format!("c{i}.toml")), "{err}");
            assert!(err.contains(why), "case {i}: {err}");
        }
    }
}
