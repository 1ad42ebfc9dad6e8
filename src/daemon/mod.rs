//! The long-running peer. Each sync runs on its own schedule
//! ([`schedule`]): when a message arrives for it (a file in its RECEIVE
//! folder, seen by notify; a mail, seen by its IMAP IDLE connection), when
//! its tracker changes or the admin changes it (another process committed
//! to the database), when a timer of its own is due (a resend, a gap), and
//! on its polling interval where nothing would tell (a network share that
//! inotify cannot see; a mail server without IDLE). An idle sync costs
//! nothing between its intervals, and the daemon's own writes wake nothing.
//! A failing sync backs off alone. Stops cleanly on Ctrl-C or SIGTERM,
//! finishing the cycle under way.

mod events;
mod mounts;
pub mod schedule;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::engine::{CycleReport, Peer, Work};
use crate::home::Home;
use crate::store::{self, SyncRecord};
use crate::transport::{FileTransport, Transport};
use events::{canonical, data_version, event_of, futures_ready, shutdown_signal, Event};
use schedule::{Due, Schedule};

#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Polling interval of syncs that must poll.
    pub interval: Duration,
    /// Wake on file-system events and IMAP IDLE (off: polling only).
    pub watch: bool,
    /// How often a remote tracker (Redmine) is asked for changes.
    pub tracker_interval: Duration,
}

/// When, after a database write, the daemon looks again whether another
/// process committed: the write event comes before the commit is visible
/// (the log is synced to disk in between), so it looks a few times.
const RECHECK_MS: [u64; 5] = [2, 10, 40, 150, 500];

/// What one sync's run came to.
struct Ran {
    id: String,
    work: Work,
    result: Result<Option<CycleReport>>,
    timer: Option<Instant>,
}

/// The daemon's view of the home: its syncs, watched folders, IDLE tasks.
struct Daemon {
    opts: RunOptions,
    schedule: Schedule,
    syncs: Vec<SyncRecord>,
    /// RECEIVE folder → sync id.
    folders: HashMap<PathBuf, String>,
    /// Watched RECEIVE folder → whether it is local (inotify sees every
    /// write), as found when it was first watched.
    local_folders: HashMap<PathBuf, bool>,
    /// sync id → (its mail settings, its IDLE task).
    idlers: HashMap<String, (String, tokio::task::JoinHandle<()>)>,
    events: mpsc::UnboundedSender<Event>,
    watcher: notify::RecommendedWatcher,
    /// The highest tracker change id looked at.
    last_change: i64,
    /// When each sync's remote tracker was last asked for changes.
    tracker_polled: HashMap<String, Instant>,
}

/// Runs the peer until a signal arrives.
pub async fn run(home: Home, opts: RunOptions) -> Result<()> {
    let mut peer = Peer::open(home.clone())?;
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let notify_tx = tx.clone();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
        if let Some(e) = res.ok().and_then(|e| event_of(&e)) {
            let _ = notify_tx.send(e);
        }
    })?;
    if opts.watch {
        watcher.watch(home.root(), RecursiveMode::NonRecursive)?;
    }
    let mut d = Daemon {
        schedule: Schedule::new(opts.interval),
        opts,
        syncs: Vec::new(),
        folders: HashMap::new(),
        local_folders: HashMap::new(),
        idlers: HashMap::new(),
        events: tx,
        watcher,
        last_change: crate::tracker::Embedded::new(&peer.conn).last_change()?,
        tracker_polled: HashMap::new(),
    };
    let mut version = data_version(&peer.conn)?;
    d.refresh(&peer)?;
    let mail = d.syncs.iter().filter(|s| s.protocol == "email").count();
    tracing::info!(
        home = %home.root().display(),
        "postern running: {} sync{} ({} over folders, {mail} over mail), polling every {:?}{}",
        d.syncs.len(),
        if d.syncs.len() == 1 { "" } else { "s" },
        d.syncs.len() - mail,
        d.opts.interval,
        if d.opts.watch { " where nothing tells" } else { " (watching nothing)" }
    );
    let mut shutdown = Box::pin(shutdown_signal()?);
    let mut recheck: Option<(Instant, usize)> = None;
    loop {
        let due = d.schedule.take_due(Instant::now());
        if !due.is_empty() {
            let folders = d.poll_folders(&due);
            let idle_trackers = d.poll_trackers(&due);
            let (p, ran) = run_due(peer, due, folders, idle_trackers).await;
            peer = p;
            d.record(ran);
            if futures_ready(&mut shutdown).await {
                break;
            }
            continue;
        }
        d.notice_lost_idle();
        let wake = [d.schedule.next_wake(Instant::now()), recheck.map(|r| r.0)].into_iter().flatten().min();
        let sleep = match wake {
            Some(t) => tokio::time::sleep_until(t.into()),
            None => tokio::time::sleep(Duration::from_secs(24 * 3600)),
        };
        let look = tokio::select! {
            e = rx.recv() => {
                let mut external = false;
                for e in e.into_iter().chain(std::iter::from_fn(|| rx.try_recv().ok())) {
                    match e {
                        Event::Database => external = true,
                        Event::Folder(dir) => {
                            tracing::trace!(?dir, "folder event");
                            if let Some(id) = d.folders.get(&dir).or_else(|| d.folders.get(&canonical(&dir))) {
                                d.schedule.ask(id, Work { receive: true });
                            }
                        }
                        Event::Mail(id) => d.schedule.ask(&id, Work { receive: true }),
                    }
                }
                if external {
                    recheck = Some((Instant::now() + Duration::from_millis(RECHECK_MS[0]), 0));
                }
                external
            }
            _ = sleep => recheck.is_some_and(|(t, _)| t <= Instant::now()),
            _ = &mut shutdown => break,
        };
        if look {
            if let Some((t, step)) = recheck.filter(|(t, _)| *t <= Instant::now()) {
                recheck = RECHECK_MS.get(step + 1).map(|ms| (t + Duration::from_millis(*ms), step + 1));
            }
            // Only another process's commits: the daemon's own writes
            // leave the connection's data_version as it was.
            let now = data_version(&peer.conn)?;
            if now != version {
                version = now;
                let t = Instant::now();
                d.external_change(&peer)?;
                tracing::debug!(took = ?t.elapsed(), "external change looked at");
            }
        }
    }
    for (_, (_, task)) in d.idlers.drain() {
        task.abort();
    }
    tracing::info!("postern stopped");
    Ok(())
}

impl Daemon {
    /// Reads the syncs again: new ones run, changed ones run (settings,
    /// pairing), the others only if their project changed or something was
    /// queued for them.
    fn external_change(&mut self, peer: &Peer) -> Result<()> {
        let before: HashMap<String, SyncRecord> =
            std::mem::take(&mut self.syncs).into_iter().map(|s| (s.id.clone(), s)).collect();
        self.refresh(peer)?;
        let changed = crate::tracker::Embedded::new(&peer.conn).changed_projects(self.last_change)?;
        self.last_change = changed.iter().map(|(_, id)| *id).fold(self.last_change, i64::max);
        let unsent = store::outbox::syncs_with_unsent(&peer.conn)?;
        for s in &self.syncs {
            let Some(b) = before.get(&s.id) else {
                continue; // new: the schedule runs it at once
            };
            if settings(b) != settings(s) {
                self.schedule.ask(&s.id, Work { receive: true });
            } else if unsent.contains(&s.id) || changed.iter().any(|(p, _)| *p == s.project) {
                self.schedule.ask(&s.id, Work { receive: false });
            }
        }
        Ok(())
    }

    /// Brings the schedule, the watched folders and the IDLE tasks in line
    /// with the syncs in the database.
    fn refresh(&mut self, peer: &Peer) -> Result<()> {
        // A paused sync is left alone: no IDLE session, no watch, no cycle.
        self.syncs = store::syncs::list(&peer.conn)?.into_iter().filter(|s| s.paused_at.is_none()).collect();
        let ids: std::collections::HashSet<&str> = self.syncs.iter().map(|s| s.id.as_str()).collect();
        self.idlers.retain(|id, (_, task)| {
            let keep = ids.contains(&id.as_str());
            if !keep {
                task.abort();
            }
            keep
        });
        for s in &self.syncs {
            if !self.opts.watch {
                continue;
            }
            match &s.mail {
                Some(mail) => {
                    // A new email sync, or its settings changed (`sync edit`).
                    if self.idlers.get(&s.id).is_some_and(|(m, _)| m == mail) {
                        continue;
                    }
                    if let Some((_, old)) = self.idlers.remove(&s.id) {
                        old.abort();
                    }
                    let settings: crate::transport::mail::MailSettings = serde_json::from_str(mail)?;
                    let (tx, id) = (self.events.clone(), s.id.clone());
                    let task = tokio::spawn(crate::transport::mail::idle_loop(settings, move || {
                        let _ = tx.send(Event::Mail(id.clone()));
                    }));
                    self.idlers.insert(s.id.clone(), (mail.clone(), task));
                }
                None => {
                    let dir = PathBuf::from(&s.exchange_dir).join("RECEIVE");
                    if !self.folders.contains_key(&dir) && self.watcher.watch(&dir, RecursiveMode::NonRecursive).is_ok()
                    {
                        // Events name the folder as watched, or resolved.
                        self.folders.insert(canonical(&dir), s.id.clone());
                        self.folders.insert(dir, s.id.clone());
                    }
                }
            }
        }
        self.folders.retain(|_, id| ids.contains(&id.as_str()));
        self.local_folders.retain(|dir, _| self.folders.contains_key(dir));
        let polling = self.polling();
        self.schedule.set_syncs(&polling, Instant::now(), rand::random::<f64>);
        Ok(())
    }

    /// Which syncs nothing would tell the daemon about: all without
    /// watching; folders not watched or on a network share (other hosts'
    /// writes raise no inotify event); mailboxes without IDLE.
    fn polling(&mut self) -> Vec<(String, bool)> {
        let mut mounts = None;
        let mut out = Vec::with_capacity(self.syncs.len());
        for s in &self.syncs {
            let polls = match &s.mail {
                _ if !self.opts.watch => true,
                // Nothing tells of changes in a remote tracker.
                _ if s.tracker.is_some() => true,
                Some(_) => self.idlers.get(&s.id).is_none_or(|(_, t)| t.is_finished()),
                None => {
                    let dir = PathBuf::from(&s.exchange_dir).join("RECEIVE");
                    match (self.folders.contains_key(&dir), self.local_folders.get(&dir)) {
                        (false, _) => true,
                        (true, Some(local)) => !local,
                        (true, None) => {
                            let mounts = mounts.get_or_insert_with(mounts::Mounts::read);
                            let polls = mounts.needs_polling(&dir);
                            self.local_folders.insert(dir, !polls);
                            polls
                        }
                    }
                }
            };
            out.push((s.id.clone(), polls));
        }
        out
    }

    /// An IDLE task that ended (the server has no IDLE): poll that sync.
    fn notice_lost_idle(&mut self) {
        if self.idlers.values().any(|(_, t)| t.is_finished()) {
            let polling = self.polling();
            self.schedule.set_syncs(&polling, Instant::now(), rand::random::<f64>);
            self.idlers.retain(|_, (_, t)| !t.is_finished());
        }
    }

    /// RECEIVE folders of the folder syncs due only to polling, for a cheap look when only the
    /// polling interval came round. Without watching, the interval is the
    /// only way tracker changes are seen: then every poll is a full cycle.
    fn poll_folders(&self, due: &[(String, Due)]) -> HashMap<String, PathBuf> {
        if !self.opts.watch {
            return HashMap::new();
        }
        let polled: std::collections::HashSet<&str> =
            due.iter().filter(|(_, why)| *why == Due::Poll).map(|(id, _)| id.as_str()).collect();
        self.syncs
            .iter()
            .filter(|s| s.mail.is_none() && s.tracker.is_none() && polled.contains(s.id.as_str()))
            .map(|s| (s.id.clone(), PathBuf::from(&s.exchange_dir)))
            .collect()
    }

    /// Syncs of remote trackers due only to the polling interval whose
    /// tracker was asked less than `tracker_interval` ago: they skip this
    /// round. The others are asked now.
    fn poll_trackers(&mut self, due: &[(String, Due)]) -> std::collections::HashSet<String> {
        let now = Instant::now();
        // Polls come on the polling ticks: one tick early rather than one
        // late, so a change waits at most about `tracker_interval`.
        let every = self.opts.tracker_interval.saturating_sub(self.opts.interval);
        let mut skip = std::collections::HashSet::new();
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

    fn record(&mut self, ran: Vec<Ran>) {
        for r in ran {
            let name = self.syncs.iter().find(|s| s.id == r.id).map_or(r.id.as_str(), |s| s.name.as_str());
            match r.result {
                // A poll that found nothing: no cycle ran.
                Ok(None) => self.schedule.nothing_new(&r.id),
                Ok(report) => {
                    let moved = report.is_some_and(|r| !r.is_idle());
                    if let Some(rep) = report.filter(|r| !r.is_idle()) {
                        tracing::info!("sync '{name}': {}", rep.summary());
                    }
                    tracing::debug!(sync = name, receive = r.work.receive, moved, "cycle finished");
                    self.schedule.done(&r.id, r.work, moved, r.timer);
                }
                Err(e) => {
                    let wait = self.schedule.failed(&r.id, Instant::now(), rand::random::<f64>() * 0.5 + 0.5);
                    tracing::error!("{e:#}; this sync is tried again in {}s (the others go on)", wait.as_secs());
                }
            }
        }
    }
}

/// The settings of a sync whose change makes it run again.
fn settings(s: &SyncRecord) -> impl PartialEq + '_ {
    (
        &s.exchange_dir,
        &s.mail,
        &s.partner_fpr,
        &s.replaced_by,
        s.forward,
        s.resend_after_ms,
        s.gap_after_ms,
        s.max_message_bytes,
        s.mass_allowed,
        s.mass_threshold,
    )
}

/// Runs the syncs that are due, on a blocking thread.
async fn run_due(
    peer: Peer,
    due: Vec<(String, Due)>,
    folders: HashMap<String, PathBuf>,
    idle_trackers: std::collections::HashSet<String>,
) -> (Peer, Vec<Ran>) {
    tokio::task::spawn_blocking(move || {
        let mut peer = peer;
        let mut ran = Vec::new();
        for (id, why) in due {
            let work = match why {
                Due::Asked(work) => work,
                Due::Poll if idle_trackers.contains(&id) => {
                    ran.push(Ran { timer: None, id, work: Work::default(), result: Ok(None) });
                    continue;
                }
                Due::Poll => match folders.get(&id) {
                    // Only the interval: a folder listing first, no cycle
                    // when it is empty (a broken share runs, to be reported).
                    Some(dir) if FileTransport::new(dir).list().is_ok_and(|l| l.is_empty()) => {
                        ran.push(Ran { timer: None, id, work: Work::default(), result: Ok(None) });
                        continue;
                    }
                    _ => Work { receive: true },
                },
            };
            let result = peer.cycle_one(&id, work);
            ran.push(Ran { timer: timer(&peer, &id), id, work, result });
        }
        (peer, ran)
    })
    .await
    .expect("cycle thread panicked")
}

/// When a sync's own timer is next due, as an instant.
fn timer(peer: &Peer, id: &str) -> Option<Instant> {
    let at = peer.next_due(id).ok()??;
    let wait = (at - store::now_ms()).max(0) as u64;
    Some(Instant::now() + Duration::from_millis(wait))
}
