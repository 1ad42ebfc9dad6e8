//! Mail account settings of a sync. Passwords are [`Password`]s: from the
//! settings, an environment variable, a file or a systemd credential.

use anyhow::{anyhow, bail, Result};
use serde::{Deserialize, Serialize};

pub use crate::secret::Password;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    Tls,
    Starttls,
    None,
}

impl std::str::FromStr for Security {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tls" => Ok(Security::Tls),
            "starttls" => Ok(Security::Starttls),
            "none" => Ok(Security::None),
            other => Err(format!("'{other}' is not a security setting: use tls, starttls or none")),
        }
    }
}

/// One server account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    pub password: Password,
}

/// A sync's mail settings: where it reads, how it sends, and the partner's
/// address (learned from the handshake or the accept message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    pub imap: Account,
    pub mailbox: String,
    pub smtp: Account,
    /// Our address: where the partner sends, and our From.
    pub address: String,
    pub partner_address: Option<String>,
    /// Where taken mails go; `None` deletes them.
    pub done_folder: Option<String>,
    pub quarantine_folder: String,
    /// Extra CA certificates (PEM) trusted for IMAP and SMTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// A server certificate pinned by its SHA-256 (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_sha256: Option<String>,
}

impl MailSettings {
    pub fn check(&self) -> Result<()> {
        if !self.address.contains('@') {
            bail!("'{}' is not a mail address", self.address);
        }
        if let Some(f) = &self.cert_sha256 {
            parse_sha256(f)?;
        }
        for (what, a) in [("IMAP", &self.imap), ("SMTP", &self.smtp)] {
            if a.host.is_empty() || a.port == 0 {
                bail!("the {what} server needs a host and a port");
            }
        }
        Ok(())
    }
}

/// A SHA-256 fingerprint as the admin may write it (`AB:CD:…` or `abcd…`).
pub fn parse_sha256(text: &str) -> Result<[u8; 32]> {
    let hex: String = text.chars().filter(|c| !matches!(c, ':' | ' ')).collect();
    let bytes = hex::decode(&hex).ok().filter(|b| b.len() == 32);
    bytes.map(|b| b.try_into().expect("32 bytes")).ok_or_else(|| {
        anyhow!("'{text}' is not a SHA-256 fingerprint (64 hex digits, e.g. from `openssl x509 -noout -fingerprint -sha256`)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_read_as_admins_write_them() {
        let hex = "AB".repeat(32);
        let colons: Vec<String> = (0..32).map(|_| "ab".to_string()).collect();
        assert_eq!(parse_sha256(&hex).unwrap(), [0xab; 32]);
        assert_eq!(parse_sha256(&colons.join(":")).unwrap(), [0xab; 32]);
        let err = parse_sha256("abcd").unwrap_err().to_string();
        assert!(err.contains("not a SHA-256 fingerprint"), "{err}");
    }
}
