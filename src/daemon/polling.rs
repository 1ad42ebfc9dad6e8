//! What tells the daemon of news and what it must look for itself:
//! RECEIVE folders watched as they are on disk, which syncs poll (nothing
//! tells of them), an IDLE that ended, a cheap look into a folder before a
//! cycle, remote trackers asked at their own interval, and a tracker that
//! does not answer watched for answering again.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;

use super::schedule::Due;
use super::{probe, Daemon};
use crate::engine::{Peer, Work};
use crate::store;

impl Daemon {
    /// Watches the RECEIVE folders as they are now on disk; a folder sync
    /// whose RECEIVE is watched anew looks into it, and whether it polls
    /// follows.
    pub(super) fn watch_folders(&mut self) {
        let folder_syncs = self.folder_syncs();
        let before: Vec<bool> = folder_syncs.iter().map(|(id, _)| self.folders.tells(id)).collect();
        let renewed = self.folders.refresh(&mut self.watcher, &folder_syncs);
        let after: Vec<bool> = folder_syncs.iter().map(|(id, _)| self.folders.tells(id)).collect();
        for id in &renewed {
            self.schedule.ask(id, Work { receive: true });
        }
        if before != after {
            let polling = self.polling();
            self.schedule.set_syncs(&polling, Instant::now(), rand::random::<f64>);
        }
        self.watched_for = folder_syncs;
    }

    /// The folder syncs: (id, exchange folder).
    pub(super) fn folder_syncs(&self) -> Vec<(String, PathBuf)> {
        self.syncs.iter().filter(|s| s.mail.is_none()).map(|s| (s.id.clone(), PathBuf::from(&s.exchange_dir))).collect()
    }

    /// Which syncs nothing would tell the daemon about: all without
    /// watching; folders not watched or on a network share (other hosts'
    /// writes raise no inotify event); mailboxes without IDLE; remote
    /// trackers.
    pub(super) fn polling(&self) -> Vec<(String, bool)> {
        self.syncs
            .iter()
            .map(|s| {
                let polls = match &s.mail {
                    _ if !self.opts.watch => true,
                    // Nothing tells of changes in a remote tracker.
                    _ if s.tracker.is_some() => true,
                    Some(_) => self.idlers.get(&s.id).is_none_or(|(_, t)| t.is_finished()),
                    None => !self.folders.tells(&s.id),
                };
                (s.id.clone(), polls)
            })
            .collect()
    }

    /// A sync whose tracker is failing: if the tracker does not answer at
    /// all, it is watched, so the sync runs the moment it answers again.
    pub(super) fn probe_tracker(&mut self, peer: &Peer, id: &str) -> Result<()> {
        // Only a tracker that gave no answer at all: one that answered
        // (an error, a Retry-After) is left to its back-off.
        let away = store::trouble::of(&peer.conn, id)?
            .into_iter()
            .any(|t| t.what == "tracker" && t.error.contains(crate::tracker::remote::http::UNREACHABLE));
        if self.probing.contains(id) || !away {
            return Ok(());
        }
        let url = self
            .syncs
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.tracker.as_deref())
            .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok()?["url"].as_str().map(str::to_string));
        if let Some(address) = url.as_deref().and_then(probe::host_port) {
            self.probing.insert(id.to_string());
            probe::spawn(id.to_string(), address, self.events.clone());
        }
        Ok(())
    }

    /// Whether what arrives for sync `id` is announced (a watched local
    /// folder, a mailbox in IDLE), so nothing needs to look for it.
    pub(super) fn tells(&self, id: &str) -> bool {
        self.opts.watch
            && match self.syncs.iter().find(|s| s.id == id).map(|s| s.mail.is_some()) {
                Some(true) => self.idlers.get(id).is_some_and(|(_, t)| !t.is_finished()),
                Some(false) => self.folders.tells(id),
                None => false,
            }
    }

    /// An IDLE task that ended (the server has no IDLE): poll that sync.
    pub(super) fn notice_lost_idle(&mut self) {
        if self.idlers.values().any(|(_, t)| t.is_finished()) {
            let polling = self.polling();
            self.schedule.set_syncs(&polling, Instant::now(), rand::random::<f64>);
            self.idlers.retain(|_, (_, t)| !t.is_finished());
        }
    }

    /// The exchange folder of a folder sync due only to polling, for a
    /// cheap look first. Without watching, the interval is the only way
    /// tracker changes are seen: then every poll is a full cycle.
    pub(super) fn poll_folder(&self, id: &str, why: Due) -> Option<PathBuf> {
        if !self.opts.watch || why != Due::Poll {
            return None;
        }
        self.syncs
            .iter()
            .find(|s| s.id == id && s.mail.is_none() && s.tracker.is_none())
            .map(|s| PathBuf::from(&s.exchange_dir))
    }

    /// Syncs of remote trackers due only to the polling interval whose
    /// tracker was asked less than `tracker_interval` ago: they skip this
    /// round. The others are asked now.
    pub(super) fn poll_trackers(&mut self, due: &[(String, Due)]) -> HashSet<String> {
        let now = Instant::now();
        // Polls come on the polling ticks: one tick early rather than one
        // late, so a change waits at most about `tracker_interval`.
        let every = self.opts.tracker_interval.saturating_sub(self.opts.interval);
        let mut skip = HashSet::new();
        for (id, why) in due {
            if !self.syncs.iter().any(|s| &s.id == id && s.tracker.is_some()) {
                continue;
            }
            match self.tracker_polled.get(id) {
                Some(t) if *why == Due::Poll && now.duration_since(*t) < every => {
                    skip.insert(id.clone());
                }
                _ => {
                    self.tracker_polled.insert(id.clone(), now);
                }
            }
        }
        skip
    }
}
