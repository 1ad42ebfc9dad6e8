//! The sync engine: a [`Peer`] runs cycles over every sync of its home.
//!
//! One cycle, per sync:
//! 1. **collect** ([`outgoing::collect`]): read the tracker's change log
//!    after the sync's cursor and store numbered messages in the outbox, in
//!    one transaction that also moves the cursor;
//! 2. **receive** ([`incoming::receive`]): open each file in RECEIVE,
//!    apply it, hold it, drop it as a duplicate, or quarantine it;
//! 3. **send** ([`send::send`]): seal and write what is due (new or
//!    unacknowledged for too long), else an acknowledgement, and ask for a
//!    resend when a gap lasts.

pub mod admin;
pub mod apply;
pub mod arrivals;
pub mod backoff;
pub mod conflict;
pub mod handshake;
pub mod incoming;
pub mod journal;
pub mod mapping;
pub mod mass;
mod not_held;
pub mod outgoing;
pub mod parts;
pub mod records;
pub mod refusal;
pub mod rekey;
mod report;
pub mod resync;
pub mod rules;
pub mod send;
pub mod snapshots;
pub mod stall;
pub mod tracker_of;
pub mod transfers;
pub mod verify;
pub mod worklogs;

use std::sync::Arc;

use anyhow::{Context, Result};
use rusqlite::Connection;

use crate::crypto::{cert_from_armored, OwnKey};
use crate::home::Home;
use crate::store::{self, SyncRecord};
use crate::tracker::TrackerError;
use crate::transport::Transport;

pub use backoff::SEND_PAUSE_MAX;
pub use report::CycleReport;

/// Largest message accepted or produced, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;
/// Smallest allowed message size limit (the largest is `MAX_MESSAGE_BYTES`).
pub const MIN_MESSAGE_LIMIT: u64 = 64 * 1024;
/// The default limit: Postfix's default `message_size_limit` is 10240000,
/// and a mail is a little larger than the message it carries.
pub const DEFAULT_MESSAGE_LIMIT: u64 = 10_000_000;

/// Why a message was refused; the text is the quarantine reason.
#[derive(Debug)]
pub struct Rejected(pub String);

/// What one sync's cycle does besides collecting and sending: whether it
/// reads the transport (a folder listing, an IMAP login).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    pub receive: bool,
}

/// A peer: one home, its database, key and tracker.
pub struct Peer {
    pub home: Home,
    pub conn: Connection,
    pub key: Arc<OwnKey>,
    /// Earlier own keys: they decrypt what was encrypted to them and sign
    /// what was queued before a rotation.
    pub retired: Arc<Vec<OwnKey>>,
    /// Syncs whose sending failed or whose tracker asked to wait: not
    /// tried again before the time said (receiving goes on meanwhile).
    backoffs: backoff::Backoffs,
    /// Syncs whose tracker was found away in the cycle under way: their
    /// messages wait instead of being applied into a tracker that hangs.
    tracker_away: std::collections::HashSet<String>,
    _lock: Arc<std::fs::File>,
}

impl Peer {
    pub fn open(home: Home) -> Result<Self> {
        let lock = home.lock()?;
        let mut conn = home.open_db()?;
        let key = home.own_key()?.with_context(|| {
            format!("the home {} has no key yet: create or accept a sync first", home.root().display())
        })?;
        rekey::queue_rekeys(&mut conn, &key)?;
        let retired = OwnKey::load_retired(&home.keys_dir())?;
        remove_stale_temps(&conn);
        Ok(Self {
            home,
            conn,
            key: Arc::new(key),
            retired: Arc::new(retired),
            backoffs: Default::default(),
            tracker_away: Default::default(),
            _lock: Arc::new(lock),
        })
    }

    /// Another peer of the same home for a worker thread of the daemon: its
    /// own database connection; the key, the lock on the home and the
    /// waits of each sync are shared.
    pub fn worker(&self) -> Result<Self> {
        Ok(Self {
            home: self.home.clone(),
            conn: self.home.open_db()?,
            key: self.key.clone(),
            retired: self.retired.clone(),
            backoffs: self.backoffs.clone(),
            tracker_away: Default::default(),
            _lock: self._lock.clone(),
        })
    }

    /// One cycle over every sync, each on its own: a sync that fails does
    /// not keep the others from being processed; the error names every
    /// sync that failed.
    pub fn cycle(&mut self) -> Result<CycleReport> {
        let mut report = CycleReport::default();
        let mut failed = Vec::new();
        for sync in store::syncs::list(&self.conn)? {
            match self.cycle_sync(&sync, Work { receive: true }) {
                Ok((r, None)) => report.add(r),
                Ok((r, Some(send))) => {
                    report.add(r);
                    failed.push(format!("sync '{}': {send:#}", sync.name));
                }
                Err(e) => failed.push(format!("sync '{}': {e:#}", sync.name)),
            }
        }
        if !failed.is_empty() {
            anyhow::bail!(
                "{} of the home's syncs failed (the others were processed): {}",
                failed.len(),
                failed.join("; ")
            );
        }
        Ok(report)
    }

    /// One cycle of the sync `id` (`None` if it no longer exists). A
    /// failure to send is said in the log and backs off on its own; only
    /// a failure to receive is an error.
    pub fn cycle_one(&mut self, id: &str, work: Work) -> Result<Option<CycleReport>> {
        let Some(sync) = store::syncs::get(&self.conn, id)? else {
            return Ok(None);
        };
        let (report, send) = self.cycle_sync(&sync, work).with_context(|| format!("sync '{}'", sync.name))?;
        if let Some(e) = send {
            tracing::error!("sync '{}': {e:#} (receiving goes on)", sync.name);
        }
        Ok(Some(report))
    }

    /// A resync waiting to be sent: the issues that existed before the
    /// sync, as chosen at create or accept, or one the partner asked for.
    /// Sent once, as soon as the partner is known.
    fn send_pending_resync(&mut self, sync: &SyncRecord, scope: &str) -> Result<()> {
        let pending: resync::Pending = serde_json::from_str(scope).context("the sync's pending resync is damaged")?;
        let (kind, scope) = (pending.kind, pending.scope);
        let planned = {
            let tracker = crate::engine::tracker_of::for_sync(sync, &self.conn)?;
            resync::plan(&tracker, sync, &scope)?
        };
        let report = resync::run(&mut self.conn, sync, &scope, &kind, planned, &mut |done, total| {
            tracing::info!(sync = %sync.name, done, total, "{kind}: sending issues");
        })?;
        store::syncs::set_initial_resync(&self.conn, &sync.id, None)?;
        tracing::info!(sync = %sync.name, issues = report.issues, outcome = report.outcome(), "{kind}: sent");
        // Checked once the partner has applied it (the verify follows it).
        if report.issues > report.new {
            verify::if_due(&mut self.conn, sync, true);
        }
        for w in &report.warnings {
            tracing::warn!(sync = %sync.name, "{w}");
        }
        Ok(())
    }

    /// When the sync next has something to send on time alone (a resend,
    /// a gap to ask about), in ms since the epoch.
    pub fn next_due(&self, id: &str) -> Result<Option<i64>> {
        let due = match store::syncs::get(&self.conn, id)? {
            Some(sync) => send::next_due(&self.conn, &sync)?,
            None => None,
        };
        // Nothing is sent before a pause after failures ends.
        let resume = self
            .backoffs
            .send_paused_until(id)
            .map(|u| store::now_ms() + u.saturating_duration_since(std::time::Instant::now()).as_millis() as i64);
        Ok(due.map(|d| resume.map_or(d, |r| d.max(r))))
    }

    /// The tracker of sync `id` asked not to be asked again before
    /// `retry_after` (a 429 or 503 with `Retry-After`).
    pub(crate) fn tracker_asked_to_wait(&mut self, id: &str, retry_after: Option<std::time::Duration>, why: &str) {
        self.backoffs.tracker_asked_to_wait(id, retry_after, why);
    }

    /// Whether sync `id`'s tracker asked not to be asked yet, or was found
    /// away earlier in this cycle.
    pub(crate) fn tracker_waiting(&self, id: &str) -> bool {
        self.tracker_away.contains(id) || self.backoffs.tracker_waits_until(id).is_some()
    }

    /// A tracker that throttled this cycle (and was waited out) shows in
    /// `status` until ten quiet minutes have passed.
    fn note_throttling(&self, sync: &SyncRecord) -> Result<()> {
        let Ok(tracker) = crate::engine::tracker_of::for_sync(sync, &self.conn) else {
            return Ok(());
        };
        let n = crate::tracker::Reads::take_throttled(&tracker);
        if n > 0 {
            let why = anyhow::anyhow!(
                "the tracker asked {} to slow down (429/503); postern waited as told",
                crate::words::plural(n, "time", "times")
            );
            return store::trouble::record(&self.conn, &sync.id, "throttled", Some(&why));
        }
        let last = store::trouble::of(&self.conn, &sync.id)?.into_iter().find(|t| t.what == "throttled");
        if last.is_some_and(|t| store::now_ms() - t.last_at > 600_000) {
            store::trouble::record(&self.conn, &sync.id, "throttled", None)?;
        }
        Ok(())
    }

    /// One sync's cycle. A failure to send does not stop receiving: it
    /// comes back beside the report (sending then pauses, growing from
    /// 2 s to [`SEND_PAUSE_MAX`]). Each kind of failing work is recorded
    /// for `status` on its own: `tracker`, `receive`, `send`, and `cycle`
    /// for anything else that stopped the cycle.
    fn cycle_sync(&mut self, sync: &SyncRecord, work: Work) -> Result<(CycleReport, Option<anyhow::Error>)> {
        if sync.paused_at.is_some() {
            return Ok((CycleReport::default(), None));
        }
        let result = self.cycle_sync_inner(sync, work);
        store::trouble::record(&self.conn, &sync.id, "cycle", result.as_ref().err())?;
        let ran = result?;
        match ran.failed {
            None => Ok((ran.report, ran.send)),
            Some(e) => Err(match ran.send {
                Some(s) => e.context(format!("{s:#}")),
                None => e,
            }),
        }
    }

    fn cycle_sync_inner(&mut self, sync: &SyncRecord, work: Work) -> Result<Ran> {
        if let (Some(scope), Some(_)) = (&sync.initial_resync, &sync.partner_fpr) {
            self.send_pending_resync(sync, scope)?;
        }
        let transport = crate::transport::AnyTransport::for_sync(sync)?;
        let position = store::syncs::mailbox_position(&self.conn, &sync.id)?;
        if let Some(p) = &position {
            transport.resume_from(p);
        }
        let mut report = CycleReport::default();
        // A tracker that is away (or asked to be left alone for a while)
        // stops collecting and applying, not sending what is queued
        // (the accept, acknowledgements): the failure is reported after.
        self.tracker_away.remove(&sync.id);
        let waiting = self.backoffs.tracker_waits_until(&sync.id);
        let mut tracker_error = match waiting {
            Some((until, why)) => {
                let left = until.saturating_duration_since(std::time::Instant::now()).as_secs() + 1;
                Some(anyhow::anyhow!("the tracker is unavailable: {why} (not asked again for {left}s)"))
            }
            None => match outgoing::collect(&mut self.conn, sync) {
                Ok(n) => {
                    report.enqueued += n;
                    None
                }
                Err(TrackerError::Unavailable { reason, retry_after }) => {
                    self.tracker_asked_to_wait(&sync.id, retry_after, &reason);
                    // Messages wait rather than hang on it once more.
                    self.tracker_away.insert(sync.id.clone());
                    Some(anyhow::anyhow!("the tracker is unavailable: {reason}"))
                }
                Err(e) => Some(anyhow::Error::from(e).context("reading the tracker's changes")),
            },
        };
        // A receive side that is down (IMAP, an unmounted share) must not
        // stop sending: send first what is due, then report the failure.
        let received = if work.receive {
            incoming::receive(self, sync, &transport).map(|r| {
                report.add(r.report);
                // The same tracker trouble once, not twice.
                if tracker_error.is_none() {
                    tracker_error = r.tracker_down;
                }
            })
        } else {
            Ok(())
        };
        if let Some(p) = transport.position().filter(|p| Some(p) != position.as_ref()) {
            store::syncs::set_mailbox_position(&self.conn, &sync.id, &p)?;
        }
        let after = store::syncs::get(&self.conn, &sync.id)?.context("sync vanished")?;
        // The accept may have told us where the partner's mail goes.
        let transport =
            if after.mail != sync.mail { crate::transport::AnyTransport::for_sync(&after)? } else { transport };
        if tracker_error.is_none() && received.is_ok() {
            // After an outage of the tracker or the exchange: a check.
            let recovered = store::trouble::of(&self.conn, &sync.id)?
                .iter()
                .any(|t| t.what == "tracker" || (work.receive && t.what == "receive"));
            verify::if_due(&mut self.conn, &after, recovered);
        }
        let paused = self.backoffs.send_paused_until(&sync.id).is_some();
        let sent =
            if paused { Ok(0) } else { send::send(&mut self.conn, &self.key, &self.retired, &after, &transport) };
        if let (Some(new), Ok(())) = (&after.replaced_by, &received) {
            if report.applied > 0 {
                // What the old sync still pairs, the new one knows too.
                store::replace::inherit_links(&self.conn, &after.id, new)?;
            }
        }
        let send_error = match sent {
            Ok(n) => {
                report.sent += n;
                if !paused {
                    self.backoffs.sent(&sync.id);
                }
                None
            }
            Err(e) => {
                let wait = self.backoffs.pause_sending(&sync.id, rand::random::<f64>() * 0.5 + 0.5);
                Some(e.context(format!("sending failed; it is tried again in {}s", wait.as_secs().max(1))))
            }
        };
        // What `status` shows: failing work and since when, each kind on
        // its own line.
        let received = received.err();
        if work.receive {
            store::trouble::record(&self.conn, &sync.id, "receive", received.as_ref())?;
        }
        store::trouble::record(&self.conn, &sync.id, "tracker", tracker_error.as_ref())?;
        self.note_throttling(sync)?;
        if !paused {
            store::trouble::record(&self.conn, &sync.id, "send", send_error.as_ref())?;
        }
        let failed = match (received, tracker_error) {
            (None, t) => t,
            (Some(r), None) => Some(r),
            (Some(r), Some(t)) => Some(r.context(format!("{t:#}"))),
        };
        Ok(Ran { report, send: send_error, failed })
    }
}

/// What one sync's cycle came to: what moved, a failure to send (it backs
/// off on its own), and a failure to read the tracker or receive (the
/// sync backs off).
struct Ran {
    report: CycleReport,
    send: Option<anyhow::Error>,
    failed: Option<anyhow::Error>,
}

/// How old a temporary file of ours must be to count as left by a writer
/// that was killed (a write takes seconds).
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// At start-up: temporary files that a killed writer left in SEND.
fn remove_stale_temps(conn: &Connection) {
    for s in store::syncs::list(conn).unwrap_or_default().iter().filter(|s| s.mail.is_none()) {
        let t = crate::transport::FileTransport::new(std::path::Path::new(&s.exchange_dir));
        if let Ok(n @ 1..) = t.remove_stale_temps(STALE_TEMP) {
            tracing::info!(sync = %s.name, "removed {} left by an interrupted write", crate::words::plural(n as u64, "temporary file", "temporary files"));
        }
    }
}

/// The partner's pinned certificate, if the sync has one.
pub fn partner_cert(sync: &SyncRecord) -> Result<Option<sequoia_openpgp::Cert>> {
    sync.partner_cert
        .as_deref()
        .map(|c| cert_from_armored(c.as_bytes()).context("the pinned partner certificate is damaged"))
        .transpose()
}

/// The mail address this peer sends from in `sync`, if it syncs by mail.
pub fn own_address(sync: &SyncRecord) -> Option<String> {
    let m: crate::transport::mail::MailSettings = serde_json::from_str(sync.mail.as_deref()?).ok()?;
    Some(m.address)
}

/// The user id naming this peer on the certificate `sync`'s partner gets.
pub fn own_user_id(sync: &SyncRecord) -> String {
    crate::crypto::peer_user_id(&sync.name, sync.role.as_str(), own_address(sync).as_deref())
}

/// Removes what postern keeps beside the database for a deleted sync: its
/// entries in the apply journal and a remote tracker's change detection.
pub fn forget_sync(home: &std::path::Path, sync_id: &str) -> Result<()> {
    journal::forget(home, sync_id)?;
    transfers::forget(home, sync_id)?;
    crate::tracker::forget(home, sync_id)
}

/// Runs two peers' cycles (of one home each, their exchange folders
/// shared) until neither moves anything: the demo's and benchmarks' loop. Returns cycles run.
pub fn run_until_quiet(a: &mut Peer, b: &mut Peer) -> Result<u32> {
    let mut quiet_rounds = 0;
    for round in 1..=1000 {
        let ra = a.cycle()?;
        let rb = b.cycle()?;
        quiet_rounds = if ra.is_idle() && rb.is_idle() { quiet_rounds + 1 } else { 0 };
        if quiet_rounds == 2 {
            return Ok(round);
        }
    }
    anyhow::bail!("the peers did not settle after 1000 cycles")
}
