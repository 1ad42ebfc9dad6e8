//! The RECEIVE folders the daemon watches, kept in line with what is on
//! disk: a RECEIVE folder removed, re-created, renamed or relinked while
//! the daemon runs (the user guide's step 3, docs/setup.md, done with the daemons already
//! running) is watched again at once, through a watch on its exchange
//! folder, and at the latest on the next check of the interval. A folder
//! that cannot be watched (missing, an unmounted share) is polled, and its
//! cycle says why it fails.

use std::collections::{HashMap, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use notify::{RecursiveMode, Watcher};

use super::mounts::Mounts;

/// What is watched for one sync.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Watched {
    /// RECEIVE as configured (maybe a symbolic link).
    dir: PathBuf,
    /// Where it led when it was watched.
    real: PathBuf,
    /// The folder's device and inode then: a folder re-created at the
    /// same place is another one.
    ident: (u64, u64),
    /// Whether it is local (inotify sees every write into it).
    local: bool,
}

#[derive(Default)]
pub struct Folders {
    watched: HashMap<String, Watched>,
    /// RECEIVE as configured and as resolved → sync id.
    by_path: HashMap<PathBuf, String>,
    /// Exchange folders watched for their RECEIVE being replaced.
    parents: HashSet<PathBuf>,
    /// Syncs whose RECEIVE was watched before (a new watch is a renewal).
    ever: HashSet<String>,
}

/// Where `dir` leads now and which folder that is, if it is a folder.
fn resolve(dir: &Path) -> Option<(PathBuf, (u64, u64))> {
    let real = std::fs::canonicalize(dir).ok()?;
    let meta = std::fs::metadata(&real).ok().filter(|m| m.is_dir())?;
    Some((real, (meta.dev(), meta.ino())))
}

impl Folders {
    /// Brings the watches in line with `syncs` (`(id, exchange folder)` of
    /// each folder sync) and with the disk. Returns the syncs whose RECEIVE
    /// is watched anew (they should look into it: files may have come
    /// while nothing watched).
    pub fn refresh(&mut self, watcher: &mut impl Watcher, syncs: &[(String, PathBuf)]) -> Vec<String> {
        let ids: HashSet<&str> = syncs.iter().map(|(id, _)| id.as_str()).collect();
        let gone: Vec<String> = self.watched.keys().filter(|id| !ids.contains(id.as_str())).cloned().collect();
        for id in gone {
            self.forget(watcher, &id);
            self.ever.remove(&id);
        }
        let mut mounts = None;
        let mut renewed = Vec::new();
        for (id, exchange) in syncs {
            if self.parents.insert(exchange.clone()) && watcher.watch(exchange, RecursiveMode::NonRecursive).is_err() {
                self.parents.remove(exchange);
            }
            let dir = exchange.join("RECEIVE");
            let now = resolve(&dir);
            let same = match (self.watched.get(id), &now) {
                (Some(w), Some((real, ident))) => w.dir == dir && w.real == *real && w.ident == *ident,
                (None, None) => true,
                _ => false,
            };
            if same {
                continue;
            }
            let was = self.forget(watcher, id);
            let Some((real, ident)) = now else {
                if was {
                    tracing::warn!(folder = %dir.display(), "a watched RECEIVE folder is gone; it is polled until it is back");
                }
                continue;
            };
            if watcher.watch(&dir, RecursiveMode::NonRecursive).is_err() {
                continue;
            }
            if !self.ever.insert(id.clone()) {
                tracing::info!(folder = %dir.display(), "RECEIVE was replaced; watching the new one");
            }
            let local = !mounts.get_or_insert_with(Mounts::read).needs_polling(&real);
            self.by_path.insert(dir.clone(), id.clone());
            self.by_path.insert(real.clone(), id.clone());
            self.watched.insert(id.clone(), Watched { dir, real, ident, local });
            renewed.push(id.clone());
        }
        renewed
    }

    /// Stops watching sync `id`'s RECEIVE; whether it was watched.
    fn forget(&mut self, watcher: &mut impl Watcher, id: &str) -> bool {
        let Some(w) = self.watched.remove(id) else {
            return false;
        };
        // The folder may be gone already: then so is its watch.
        let _ = watcher.unwatch(&w.dir);
        self.by_path.retain(|_, s| s != id);
        true
    }

    /// The sync whose RECEIVE `dir` is (as an event names it).
    pub fn sync_of(&self, dir: &Path) -> Option<&String> {
        self.by_path.get(dir).or_else(|| self.by_path.get(&super::events::canonical(dir)))
    }

    /// Whether a file arriving in sync `id`'s RECEIVE wakes the daemon: its
    /// folder is watched and local. Otherwise the sync polls.
    pub fn tells(&self, id: &str) -> bool {
        self.watched.get(id).is_some_and(|w| w.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watcher() -> notify::RecommendedWatcher {
        notify::recommended_watcher(|_: notify::Result<notify::Event>| {}).unwrap()
    }

    #[test]
    fn a_replaced_or_relinked_receive_folder_is_watched_anew() {
        let dir = tempfile::tempdir().unwrap();
        let exchange = dir.path().join("acme");
        std::fs::create_dir_all(exchange.join("RECEIVE")).unwrap();
        let (mut f, mut w) = (Folders::default(), watcher());
        let syncs = [("s".to_string(), exchange.clone())];
        assert_eq!(f.refresh(&mut w, &syncs), ["s"]);
        assert!(f.tells("s"));
        assert!(f.refresh(&mut w, &syncs).is_empty(), "nothing changed, nothing renewed");

        // mv RECEIVE away; mkdir RECEIVE: another folder at the same place.
        std::fs::rename(exchange.join("RECEIVE"), dir.path().join("old")).unwrap();
        std::fs::create_dir(exchange.join("RECEIVE")).unwrap();
        assert_eq!(f.refresh(&mut w, &syncs), ["s"]);

        // rm -R RECEIVE; ln -s share RECEIVE.
        let share = dir.path().join("share");
        std::fs::create_dir(&share).unwrap();
        std::fs::remove_dir(exchange.join("RECEIVE")).unwrap();
        std::os::unix::fs::symlink(&share, exchange.join("RECEIVE")).unwrap();
        assert_eq!(f.refresh(&mut w, &syncs), ["s"]);
        assert_eq!(f.sync_of(&share.canonicalize().unwrap()).map(String::as_str), Some("s"));

        // Gone: polled until it is back.
        std::fs::remove_file(exchange.join("RECEIVE")).unwrap();
        assert!(f.refresh(&mut w, &syncs).is_empty());
        assert!(!f.tells("s"));
        std::fs::create_dir(exchange.join("RECEIVE")).unwrap();
        assert_eq!(f.refresh(&mut w, &syncs), ["s"]);
        assert!(f.tells("s"));

        // A sync removed is forgotten.
        f.refresh(&mut w, &[]);
        assert!(!f.tells("s"));
        assert_eq!(f.sync_of(&exchange.join("RECEIVE")), None);
    }
}
