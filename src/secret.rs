//! Where a secret comes from (a mail password, a tracker's token or key):
//! the settings, an environment variable, a file or a systemd credential.
//! A secret never shows in `Debug`; a file's is read when it is used, so
//! a replaced file is read again.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// Where a password comes from.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Password {
    Value(String),
    Env(String),
    File(String),
    /// A systemd credential by name (`credential:NAME` where a file is
    /// asked for): the unit's `LoadCredential=NAME` puts it in
    /// `$CREDENTIALS_DIRECTORY`; outside a unit (an admin's `sync edit`),
    /// it is read where systemd reads it from, `/etc/credstore` or
    /// `/run/credstore`.
    Credential(String),
}

/// How a file flag names a systemd credential instead of a path.
pub const CREDENTIAL: &str = "credential:";

/// Where systemd's `LoadCredential=NAME` looks for NAME without a path.
const CREDSTORES: [&str; 2] = ["/etc/credstore", "/run/credstore"];

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Password::Value(_) => f.write_str("Value(<redacted>)"),
            Password::Env(v) => write!(f, "Env({v})"),
            Password::File(p) => write!(f, "File({p})"),
            Password::Credential(n) => write!(f, "Credential({n})"),
        }
    }
}

impl Password {
    pub fn resolve(&self) -> Result<String> {
        match self {
            Password::Value(v) => Ok(v.clone()),
            Password::Env(name) => std::env::var(name).with_context(|| {
                format!("environment variable {name}, which should hold the password or token, is not set")
            }),
            Password::File(path) => read_secret(std::path::Path::new(path)),
            Password::Credential(name) => read_secret(&credential_path(name)?),
        }
    }

    /// The file a secret is read from, where it comes from one (a file,
    /// or a credential found now): a changed file is read again.
    pub fn file(&self) -> Option<std::path::PathBuf> {
        match self {
            Password::File(path) => Some(path.into()),
            Password::Credential(name) => credential_path(name).ok(),
            _ => None,
        }
    }

    /// A file flag's value: `credential:NAME` (a systemd credential) or a
    /// path.
    pub fn from_file_flag(value: &str, path: impl FnOnce(&str) -> Result<String>) -> Result<Password> {
        match value.strip_prefix(CREDENTIAL) {
            Some(name) if name.is_empty() || name.contains('/') || name == "." || name == ".." => {
                bail!("'{value}' does not name a credential: give credential:NAME, NAME as in the unit's LoadCredential=NAME")
            }
            Some(name) => {
                credential_path(name)?;
                Ok(Password::Credential(name.to_string()))
            }
            None => Ok(Password::File(path(value)?)),
        }
    }
}

fn read_secret(path: &std::path::Path) -> Result<String> {
    Ok(std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the password or token file {}", path.display()))?
        .trim_end_matches(['\r', '\n'])
        .to_string())
}

/// Where credential `name` is: in `$CREDENTIALS_DIRECTORY` under a unit,
/// else in a credstore.
fn credential_path(name: &str) -> Result<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY") {
        let p = std::path::Path::new(&dir).join(name);
        if !p.is_file() {
            bail!(
                "systemd credential '{name}' is not in $CREDENTIALS_DIRECTORY ({}): add LoadCredential={name} \
                 (or LoadCredential={name}:/path/to/file) to the unit",
                std::path::Path::new(&dir).display()
            );
        }
        return Ok(p);
    }
    CREDSTORES.iter().map(|d| std::path::Path::new(d).join(name)).find(|p| p.exists()).with_context(|| {
        format!(
            "systemd credential '{name}' cannot be found: postern runs outside a unit (no $CREDENTIALS_DIRECTORY) \
             and neither {} holds it; put the secret in /etc/credstore/{name} (mode 0600), where the unit's \
             LoadCredential={name} reads it too",
            CREDSTORES.join(" nor ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_and_resolved() {
        let p = Password::Value("hunter2".into());
        assert!(!format!("{p:?}").contains("hunter2"));
        assert_eq!(p.resolve().unwrap(), "hunter2");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "from-file\n").unwrap();
        assert_eq!(Password::File(f.to_string_lossy().into()).resolve().unwrap(), "from-file");
        let err = Password::Env("POSTERN_TEST_SURELY_UNSET".into()).resolve().unwrap_err();
        assert!(err.to_string().contains("POSTERN_TEST_SURELY_UNSET"));
    }
}
