//! SEND/RECEIVE folders. Writes go to a dot-named temporary file in the
//! destination folder, are fsynced, renamed to the final name, and the
//! folder is fsynced, so the partner never reads half a file. SEND and
//! RECEIVE may be symbolic links into a network share.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::{Incoming, Transport};
use crate::protocol::names;

#[derive(Debug, Clone)]
pub struct FileTransport {
    send: PathBuf,
    receive: PathBuf,
    quarantine: PathBuf,
}

impl FileTransport {
    /// The folders of an exchange directory: `SEND`, `RECEIVE`, `QUARANTINE`.
    pub fn new(exchange: &Path) -> Self {
        Self { send: exchange.join("SEND"), receive: exchange.join("RECEIVE"), quarantine: exchange.join("QUARANTINE") }
    }

    /// Creates the folders that do not exist yet (links are left alone).
    pub fn create_dirs(exchange: &Path) -> Result<()> {
        for d in ["SEND", "RECEIVE", "QUARANTINE"] {
            let p = exchange.join(d);
            if fs::symlink_metadata(&p).is_err() {
                fs::create_dir_all(&p).with_context(|| format!("cannot create {}", p.display()))?;
            }
        }
        Ok(())
    }

    /// Removes temporary files of ours in SEND older than `age`: left by a
    /// writer killed mid-write (only we write into our SEND). Returns how
    /// many went.
    pub fn remove_stale_temps(&self, age: std::time::Duration) -> Result<usize> {
        let mut removed = 0;
        for entry in fs::read_dir(&self.send)? {
            let entry = entry?;
            let name = entry.file_name();
            let ours = name.to_str().is_some_and(|n| n.starts_with(&names::temp_name("")));
            let old = entry.metadata()?.modified()?.elapsed().is_ok_and(|e| e > age);
            if ours && old && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Moves the message files waiting in this exchange's SEND and
    /// RECEIVE into `to`'s (when a sync's exchange folder changes), each
    /// written whole and fsynced there before it is removed here. Returns
    /// how many moved from SEND and from RECEIVE.
    pub fn move_waiting(&self, to: &FileTransport) -> Result<(usize, usize)> {
        let mut moved = [0, 0];
        for (n, (from, into)) in [(&self.send, &to.send), (&self.receive, &to.receive)].into_iter().enumerate() {
            Self::check_dir(from)?;
            Self::check_dir(into)?;
            for entry in fs::read_dir(from)? {
                let entry = entry?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
                if names::parse(&name).is_none() || !entry.metadata()?.is_file() {
                    continue;
                }
                if !into.join(&name).exists() {
                    let data = fs::read(entry.path())?;
                    let peer = FileTransport { send: into.clone(), receive: into.clone(), quarantine: into.clone() };
                    peer.send(&name, &data)?;
                }
                fs::remove_file(entry.path()).with_context(|| format!("cannot remove {}", entry.path().display()))?;
                moved[n] += 1;
            }
            sync_dir(from)?;
        }
        Ok((moved[0], moved[1]))
    }

    pub fn receive_dir(&self) -> &Path {
        &self.receive
    }

    pub fn quarantine_dir(&self) -> &Path {
        &self.quarantine
    }

    fn check_dir(dir: &Path) -> Result<()> {
        match fs::metadata(dir) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => bail!("{} is not a folder", dir.display()),
            Err(e) => {
                bail!("{} is not reachable: {e} (if it is a symbolic link, is the share mounted?)", dir.display())
            }
        }
    }
}

fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

impl Transport for FileTransport {
    fn send(&self, name: &str, data: &[u8]) -> Result<()> {
        Self::check_dir(&self.send)?;
        let tmp = self.send.join(names::temp_name(&names::new_nonce()));
        let result = (|| -> Result<()> {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
            fs::rename(&tmp, self.send.join(name))?;
            sync_dir(&self.send)
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.with_context(|| format!("cannot write {name} into {}", self.send.display()))
    }

    fn list(&self) -> Result<Vec<Incoming>> {
        Self::check_dir(&self.receive)?;
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.receive)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if names::parse(&name).is_none() {
                continue;
            }
            let meta = entry.metadata()?;
            if !meta.is_file() {
                continue;
            }
            out.push(Incoming { id: name.clone(), name, size: meta.len() });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    fn read(&self, id: &str, limit: u64) -> Result<Vec<u8>> {
        let mut buf = Vec::new();
        fs::File::open(self.receive.join(id))?.take(limit + 1).read_to_end(&mut buf)?;
        Ok(buf)
    }

    fn remove(&self, id: &str) -> Result<()> {
        match fs::remove_file(self.receive.join(id)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("cannot remove {id}")),
        }
        sync_dir(&self.receive)
    }

    fn quarantine(&self, id: &str, reason: &str) -> Result<()> {
        fs::create_dir_all(&self.quarantine)?;
        let from = self.receive.join(id);
        let to = self.quarantine.join(id);
        // rename fails across file systems (RECEIVE on a share): copy then remove
        if fs::rename(&from, &to).is_err() {
            fs::copy(&from, &to).with_context(|| format!("cannot quarantine {id}"))?;
            fs::remove_file(&from)?;
        }
        fs::write(self.quarantine.join(format!("{id}.reason.txt")), format!("{reason}\n"))?;
        sync_dir(&self.quarantine)
    }
}
