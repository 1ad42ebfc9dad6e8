//! A peer's home folder: `postern.db` (state and embedded tracker),
//! `keys/` (own secret key, owner-only), `exchange/<sync>/` (default
//! SEND/RECEIVE folders). Several syncs share one home and one key.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rusqlite::Connection;

use crate::crypto::{generate_key, OwnKey};

/// Environment variable naming the home when `--home` is not given.
pub const HOME_ENV: &str = "POSTERN_HOME";

#[derive(Debug, Clone)]
pub struct Home {
    root: PathBuf,
}

impl Home {
    /// Uses `root`, creating it and its folders if needed.
    pub fn create(root: &Path) -> Result<Self> {
        std::fs::create_dir_all(root.join("keys"))
            .with_context(|| format!("cannot create home folder {}", root.display()))?;
        std::fs::create_dir_all(root.join("exchange"))?;
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

    pub fn open_db(&self) -> Result<Connection> {
        crate::store::open(&self.db_path())
    }

    /// Takes the home's run lock: one peer process per home at a time.
    /// Held until the returned file is dropped.
    pub fn lock(&self) -> Result<std::fs::File> {
        let path = self.root.join("postern.lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        match f.try_lock() {
            Ok(()) => Ok(f),
            Err(std::fs::TryLockError::WouldBlock) => {
                anyhow::bail!("another postern process is already running on the home {}", self.root.display())
            }
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
