//! A peer's home folder: `postern.db` (state and embedded tracker),
//! `keys/` (own secret key, owner-only), `exchange/<sync>/` (default
//! SEND/RECEIVE folders). Several syncs share one home and one key.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rusqlite::Connection;

use crate::crypto::{generate_key, OwnKey};

/// Environment variable naming the home when `--home` is not given.
pub const HOME_ENV: &str = "POSTERN_HOME";

/// Environment variable overriding [`LOCK_WAIT`], in seconds.
pub const LOCK_WAIT_ENV: &str = "POSTERN_LOCK_WAIT";

/// How long a process waits for another one to release the home.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// Uses `root`, creating it and its folders if needed (a new home is
    /// readable by its owner only: it holds keys and mail passwords).
    pub fn create(root: &Path) -> Result<Self> {
        not_a_file(root)?;
        let new = !root.exists();
        std::fs::create_dir_all(root.join("keys"))
            .with_context(|| format!("cannot create home folder {}", root.display()))?;
        std::fs::create_dir_all(root.join("exchange"))?;
        if new {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o700))?;
        }
        Ok(Self { root: root.to_path_buf() })
    }

    /// Uses `root`, which must be a home already (it has a database).
    pub fn existing(root: &Path) -> Result<Self> {
        not_a_file(root)?;
        if !root.join("postern.db").is_file() {
            anyhow::bail!(
                "there is no postern home at {} (no postern.db): check --home or {HOME_ENV}; \
                 `project create` (a sync needs a project) or `key import` make one",
                root.display()
            );
        }
        Ok(Self { root: root.to_path_buf() })
    }

    /// The default home: `$POSTERN_HOME`, else `~/.local/share/postern`.
    pub fn default_root() -> PathBuf {
        if let Some(h) = std::env::var_os(HOME_ENV) {
            return PathBuf::from(h);
        }
        let base = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
        base.join(".local/share/postern")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn db_path(&self) -> PathBuf {
        self.root.join("postern.db")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.root.join("keys")
    }

    pub fn default_exchange(&self, sync_name: &str) -> PathBuf {
        self.root.join("exchange").join(sync_name)
    }

    /// Opens the database, created owner-only; one that others can read
    /// is refused (it holds mail passwords and pairing secrets).
    pub fn open_db(&self) -> Result<Connection> {
        use std::os::unix::fs::OpenOptionsExt;
        use std::os::unix::fs::PermissionsExt;
        let path = self.db_path();
        if !path.exists() {
            // Made owner-only before SQLite writes (its journal files take
            // the database's mode).
            let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path);
        }
        let conn = crate::store::open(&path)?;
        let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "the database {} can be read by others (mode {mode:o}); it holds mail passwords and pairing \
                 secrets: run `chmod 600 {}` and try again",
                path.display(),
                path.display()
            );
        }
        Ok(conn)
    }

    /// Takes the home's run lock: one peer process per home at a time.
    /// Held until the returned file is dropped. Another process finishing
    /// its work (a `run --once` from cron, a command that just ended) is
    /// waited for up to [`LOCK_WAIT`]; a daemon that keeps running is not.
    pub fn lock(&self) -> Result<std::fs::File> {
        let wait = std::env::var(LOCK_WAIT_ENV)
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map_or(LOCK_WAIT, std::time::Duration::from_secs_f64);
        self.lock_within(wait)
    }

    /// [`Home::lock`] with a chosen longest wait.
    pub fn lock_within(&self, wait: std::time::Duration) -> Result<std::fs::File> {
        let path = self.root.join("postern.lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let start = std::time::Instant::now();
        let mut told = false;
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(f),
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                    if !told && start.elapsed() >= std::time::Duration::from_secs(1) {
                        tracing::warn!(home = %self.root.display(), "another postern process holds this home; waiting up to {}s for it", wait.as_secs());
                        told = true;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                    "another postern process is already running on the home {} (waited {:.0}s): \
                     if a `postern run` daemon serves this home it does this work already; otherwise stop that process",
                    self.root.display(),
                    wait.as_secs_f64()
                ),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("cannot lock {}", path.display()))
                }
            }
        }
    }

    /// Whether another process holds the run lock at this moment: a
    /// `postern run` daemon serving the home (or a command at work). The
    /// lock is only tried, never waited for, and let go at once.
    pub fn served(&self) -> Result<bool> {
        let path = self.root.join("postern.lock");
        let f = match std::fs::OpenOptions::new().write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        };
        match f.try_lock() {
            Ok(()) => Ok(false),
            Err(std::fs::TryLockError::WouldBlock) => Ok(true),
            Err(std::fs::TryLockError::Error(e)) => Err(e).with_context(|| format!("cannot lock {}", path.display())),
        }
    }

    /// The own key, if this home has one.
    pub fn own_key(&self) -> Result<Option<OwnKey>> {
        OwnKey::load(&self.keys_dir())
    }

    /// The own key, generating and storing one the first time.
    pub fn own_key_or_generate(&self) -> Result<(OwnKey, bool)> {
        if let Some(k) = self.own_key()? {
            return Ok((k, false));
        }
        let key = OwnKey::from_cert(generate_key("postern peer")?)?;
        key.store(&self.keys_dir())?;
        Ok((key, true))
    }
}

/// A home is a folder: `--home` naming a file (the database itself, say)
/// is said as such.
fn not_a_file(root: &Path) -> Result<()> {
    if root.is_file() {
        let hint = match root.file_name().and_then(|n| n.to_str()) {
            Some("postern.db") => {
                format!(" (the home is the folder that holds it: {})", root.parent().unwrap_or(root).display())
            }
            _ => String::new(),
        };
        anyhow::bail!("--home {} is a file, not a folder{hint}", root.display());
    }
    Ok(())
}
