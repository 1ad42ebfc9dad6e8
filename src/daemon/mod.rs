//! The long-running peer. Each sync runs on its own schedule
//! ([`schedule`]): when a message arrives for it (a file in its RECEIVE
//! folder, seen by notify; a mail, seen by its IMAP IDLE connection), when
//! its tracker changes or the admin changes it (another process committed
//! to the database), when a timer of its own is due (a resend, a gap), and
//! on its polling interval where nothing would tell (a network share that
//! inotify cannot see; a mail server without IDLE). Each cycle runs on a
//! worker thread with its own connection (`worker`), so one sync never
//! waits for another; what a cycle committed is looked at like another
//! process's commit (it may concern other syncs of the same project), and
//! a cycle that changed nothing wakes nothing, so an idle sync costs
//! nothing between its intervals. A failing sync backs off alone. Stops
//! cleanly on Ctrl-C or SIGTERM, finishing the cycles under way (at most
//! `STOP_WAIT`).

mod events;
mod folders;
mod mounts;
mod polling;
mod probe;
pub mod schedule;
mod worker;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Result;
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::engine::{Peer, Work};
use crate::home::Home;
use crate::store::{self, SyncRecord};
pub use events::wake;
use events::{data_version, event_of, shutdown_signal, Event};
use schedule::{Due, Schedule};
pub use worker::PANIC_ENV;

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
const RECHECK_MS: [u64; 8] = [1, 2, 4, 8, 16, 40, 150, 500];

/// Peers kept for the next cycles (each holds a database connection).
const SPARE_PEERS: usize = 4;

/// How long a stop waits for the cycles under way. One that takes longer
/// (a tracker that hangs) is cut, which is as safe as a crash: what was
/// not committed is done again by the next run.
const STOP_WAIT: Duration = Duration::from_secs(10);

/// The daemon's view of the home: its syncs, watched folders, IDLE tasks.
struct Daemon {
    opts: RunOptions,
    schedule: Schedule,
    syncs: Vec<SyncRecord>,
    /// RECEIVE folders watched, kept in line with the disk.
    folders: folders::Folders,
    /// The folder syncs (id, exchange folder) the watches were last
    /// brought in line with.
    watched_for: Vec<(String, PathBuf)>,
    /// sync id → (its mail settings, its IDLE task).
    idlers: HashMap<String, (String, tokio::task::JoinHandle<()>)>,
    events: mpsc::UnboundedSender<Event>,
    watcher: notify::RecommendedWatcher,
    /// The highest tracker change id looked at.
    last_change: i64,
    /// When each sync's remote tracker was last asked for changes.
    tracker_polled: HashMap<String, Instant>,
    /// Peers for cycles, each with its own connection: a cycle runs on a
    /// thread of its own, so one sync never waits for another.
    spare: Vec<Peer>,
    /// Cycles under way.
    running: usize,
    /// Syncs whose tracker is being watched for answering again.
    probing: HashSet<String>,
    /// sync id → why its mailbox cannot be watched, until the watch is up
    /// again: a cycle that read the mailbox just before it went down does
    /// not clear what `status` shows of it.
    watch_down: HashMap<String, String>,
}

/// Runs the peer until a signal arrives.
pub async fn run(home: Home, opts: RunOptions) -> Result<()> {
    worker::note_panics();
    let peer = Peer::open(home.clone())?;
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
        folders: Default::default(),
        watched_for: Vec::new(),
        idlers: HashMap::new(),
        events: {
            events::set_waker(Some(tx.clone()));
            tx
        },
        watcher,
        last_change: crate::tracker::Embedded::new(&peer.conn).last_change()?,
        tracker_polled: HashMap::new(),
        spare: Vec::new(),
        running: 0,
        probing: HashSet::new(),
        watch_down: HashMap::new(),
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
    let mut stopping: Option<Instant> = None;
    let mut recheck: Option<(Instant, usize)> = None;
    // The folders are looked at once an interval, in case an event was
    // missed (a RECEIVE replaced on a share).
    let mut folder_check = Instant::now() + d.opts.interval;
    loop {
        if let Some(by) = stopping {
            if d.running == 0 {
                break;
            }
            if Instant::now() >= by {
                tracing::warn!(
                    "stopping: {} did not finish in {STOP_WAIT:?}; cut, as after a crash",
                    crate::words::plural(d.running as u64, "cycle", "cycles")
                );
                break;
            }
        }
        if stopping.is_none() {
            let due = d.schedule.take_due(Instant::now());
            if !due.is_empty() {
                d.start(&peer, due)?;
            }
            if d.opts.watch && Instant::now() >= folder_check {
                folder_check = Instant::now() + d.opts.interval;
                d.watch_folders();
            }
        }
        d.notice_lost_idle();
        let wake = match stopping {
            Some(by) => Some(by),
            None => [d.schedule.next_wake(Instant::now()), recheck.map(|r| r.0), Some(folder_check)]
                .into_iter()
                .flatten()
                .min(),
        };
        let sleep = match wake {
            Some(t) => tokio::time::sleep_until(t.into()),
            None => tokio::time::sleep(Duration::from_secs(24 * 3600)),
        };
        let look = tokio::select! {
            e = rx.recv() => {
                let mut external = false;
                for e in e.into_iter().chain(std::iter::from_fn(|| rx.try_recv().ok())) {
                    external |= d.event(&peer, e)?;
                }
                if external {
                    recheck = Some((Instant::now() + Duration::from_millis(RECHECK_MS[0]), 0));
                }
                external
            }
            _ = sleep => recheck.is_some_and(|(t, _)| t <= Instant::now()),
            _ = &mut shutdown, if stopping.is_none() => {
                stopping = Some(Instant::now() + STOP_WAIT);
                if d.running > 0 {
                    tracing::info!("stopping: waiting for {} under way", crate::words::plural(d.running as u64, "cycle", "cycles"));
                }
                false
            }
        };
        if look {
            if let Some((t, step)) = recheck.filter(|(t, _)| *t <= Instant::now()) {
                recheck = RECHECK_MS.get(step + 1).map(|ms| (t + Duration::from_millis(*ms), step + 1));
            }
            // Another connection's commits: another process's, or a
            // cycle's on its worker (what it applied may concern other
            // syncs of the same project).
            let now = data_version(&peer.conn)?;
            if now != version {
                version = now;
                let t = Instant::now();
                d.external_change(&peer)?;
                tracing::debug!(took = ?t.elapsed(), "external change looked at");
            }
        }
    }
    events::set_waker(None);
    for (_, (_, task)) in d.idlers.drain() {
        task.abort();
    }
    tracing::info!("postern stopped");
    Ok(())
}

impl Daemon {
    /// Takes in one event; whether the database may have changed.
    fn event(&mut self, peer: &Peer, e: Event) -> Result<bool> {
        match e {
            Event::Database => return Ok(true),
            Event::Folder(dir) => {
                tracing::trace!(?dir, "folder event");
                if let Some(id) = self.folders.sync_of(&dir) {
                    self.schedule.ask(id, Work { receive: true });
                }
            }
            Event::Receive => self.watch_folders(),
            Event::Mail(id) => self.schedule.ask(&id, Work { receive: true }),
            Event::Hook(id) => {
                // Asked, not due to the interval: its tracker is read now.
                self.tracker_polled.remove(&id);
                self.schedule.ask(&id, Work { receive: false });
            }
            Event::MailState(id, down) => {
                match &down {
                    Some(why) => self.watch_down.insert(id.clone(), why.clone()),
                    None => self.watch_down.remove(&id),
                };
                let why = down.map(|d| anyhow::anyhow!("{d}"));
                if self.syncs.iter().any(|s| s.id == id) {
                    store::trouble::record(&peer.conn, &id, "receive", why.as_ref())?;
                }
            }
            Event::Probed(id, back) => {
                self.probing.remove(&id);
                if back {
                    tracing::info!(sync = %id, "the tracker answers again: the sync runs now");
                    self.schedule.retry_now(&id);
                }
            }
            Event::Ran(finished) => {
                self.finished(peer, *finished)?;
                // What the cycle committed may concern other syncs.
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Starts the cycles that are due, each on a thread of its own.
    fn start(&mut self, peer: &Peer, due: Vec<(String, Due)>) -> Result<()> {
        let skip = self.poll_trackers(&due);
        for (id, why) in due {
            let poll_folder = self.poll_folder(&id, why);
            let job = worker::Job { skip_tracker: skip.contains(&id), id, why, poll_folder };
            let p = match self.spare.pop() {
                Some(p) => p,
                None => peer.worker()?,
            };
            self.running += 1;
            worker::spawn(p, job, self.events.clone());
        }
        Ok(())
    }

    /// A cycle ended: its outcome goes into the schedule and the log.
    fn finished(&mut self, peer: &Peer, f: events::Finished) -> Result<()> {
        self.running -= 1;
        if let Some(p) = f.peer {
            if self.spare.len() < SPARE_PEERS {
                self.spare.push(p);
            }
        }
        let name = self.syncs.iter().find(|s| s.id == f.id).map_or(f.id.as_str(), |s| s.name.as_str()).to_string();
        // A cycle that read the mailbox before its watch went down (and
        // finished after) said receiving works: the watch knows better.
        if let Some(why) = self.watch_down.get(&f.id).filter(|_| f.work.receive) {
            store::trouble::record(&peer.conn, &f.id, "receive", Some(&anyhow::anyhow!("{why}")))?;
        }
        if f.panic.is_some() || store::trouble::since(&peer.conn, &f.id, "panic")?.is_some() {
            let why = f.panic.as_ref().map(|at| anyhow::anyhow!("the cycle panicked: {at}"));
            store::trouble::record(&peer.conn, &f.id, "panic", why.as_ref())?;
        }
        match f.result {
            // A poll that found nothing: no cycle ran.
            Ok(None) => self.schedule.nothing_new(&f.id),
            Ok(Some(report)) => {
                let moved = !report.is_idle();
                if moved {
                    tracing::info!("sync '{name}': {}", report.summary());
                }
                tracing::debug!(sync = name, receive = f.work.receive, moved, "cycle finished");
                // A cycle that moved something runs again (more may wait),
                // reading the transport again only where nothing would
                // tell of what arrived meanwhile: a watched local folder
                // and a mailbox in IDLE tell (no second IMAP login).
                let work = if self.tells(&f.id) { Work { receive: false } } else { f.work };
                self.schedule.done(&f.id, work, moved, f.timer);
            }
            Err(e) => {
                let wait = self.schedule.failed(&f.id, Instant::now(), rand::random::<f64>() * 0.5 + 0.5);
                tracing::error!("{e:#}; this sync is tried again in {}s (the others go on)", wait.as_secs());
                self.probe_tracker(peer, &f.id)?;
            }
        }
        Ok(())
    }

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
        let ids: HashSet<&str> = self.syncs.iter().map(|s| s.id.as_str()).collect();
        self.idlers.retain(|id, (_, task)| {
            let keep = ids.contains(&id.as_str());
            if !keep {
                task.abort();
            }
            keep
        });
        self.watch_down.retain(|id, _| ids.contains(&id.as_str()));
        if self.opts.watch {
            for s in &self.syncs {
                let Some(mail) = &s.mail else { continue };
                // A new email sync, or its settings changed (`sync edit`).
                if self.idlers.get(&s.id).is_some_and(|(m, _)| m == mail) {
                    continue;
                }
                if let Some((_, old)) = self.idlers.remove(&s.id) {
                    old.abort();
                }
                // The new watch tells for itself.
                self.watch_down.remove(&s.id);
                let settings: crate::transport::mail::MailSettings = serde_json::from_str(mail)?;
                let (tx, id) = (self.events.clone(), s.id.clone());
                let task = tokio::spawn(crate::transport::mail::idle_loop(settings, move |news| {
                    let _ = tx.send(match news {
                        crate::transport::mail::Idle::NewMail => Event::Mail(id.clone()),
                        crate::transport::mail::Idle::Up => Event::MailState(id.clone(), None),
                        crate::transport::mail::Idle::Down(why) => Event::MailState(id.clone(), Some(why)),
                    });
                }));
                self.idlers.insert(s.id.clone(), (mail.clone(), task));
            }
            // The disk is looked at on RECEIVE events and each interval;
            // here only when the folder syncs themselves changed (a
            // refresh follows every cycle's commit).
            if self.folder_syncs() != self.watched_for {
                self.watch_folders();
            }
        }
        let polling = self.polling();
        self.schedule.set_syncs(&polling, Instant::now(), rand::random::<f64>);
        Ok(())
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
