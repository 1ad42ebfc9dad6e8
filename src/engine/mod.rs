//! The sync engine: a [`Peer`] runs cycles over every sync of its home.
//!
//! One cycle, per sync:
//! 1. **collect** ([`outgoing::collect`]): read the tracker's change log
//!    after the sync's cursor and store numbered messages in the outbox, in
//!    one transaction that also moves the cursor;
//! 2. **receive** ([`incoming::receive`]): open each file in RECEIVE,
//!    apply it, hold it, drop it as a duplicate, or quarantine it;
//! 3. **send** ([`outgoing::send`]): seal and write what is due (new or
//!    unacknowledged for too long), else an acknowledgement, and ask for a
//!    resend when a gap lasts.

pub mod apply;
pub mod arrivals;
pub mod handshake;
pub mod incoming;
pub mod outgoing;
pub mod parts;
pub mod rekey;

use anyhow::{Context, Result};
use rusqlite::Connection;

use crate::crypto::{cert_from_armored, OwnKey};
use crate::home::Home;
use crate::store::{self, SyncRecord};
use crate::tracker::Embedded;
use crate::transport::Transport;

/// Largest message accepted or produced, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024 * 1024;

/// What one cycle did, summed over syncs.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CycleReport {
    pub enqueued: u64,
    pub sent: u64,
    pub applied: u64,
    pub held: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Files read from the transport, whatever became of them.
    pub received: u64,
}

impl CycleReport {
    pub fn add(&mut self, o: CycleReport) {
        self.enqueued += o.enqueued;
        self.sent += o.sent;
        self.applied += o.applied;
        self.held += o.held;
        self.duplicates += o.duplicates;
        self.quarantined += o.quarantined;
        self.received += o.received;
    }

    /// Whether the cycle moved anything.
    pub fn is_idle(&self) -> bool {
        *self == CycleReport::default()
    }
}

/// A peer: one home, its database, key and tracker.
pub struct Peer {
    pub home: Home,
    pub conn: Connection,
    pub key: OwnKey,
    /// Earlier own keys: they decrypt what was encrypted to them and sign
    /// what was queued before a rotation.
    pub retired: Vec<OwnKey>,
    pub tracker: Embedded,
    _lock: std::fs::File,
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
        Ok(Self { home, conn, key, retired, tracker: Embedded, _lock: lock })
    }

    /// One cycle over every sync.
    pub fn cycle(&mut self) -> Result<CycleReport> {
        let mut report = CycleReport::default();
        for sync in store::syncs::list(&self.conn)? {
            let r = self.cycle_sync(&sync).with_context(|| format!("sync '{}'", sync.name))?;
            report.add(r);
        }
        Ok(report)
    }

    fn cycle_sync(&mut self, sync: &SyncRecord) -> Result<CycleReport> {
        let transport = crate::transport::AnyTransport::for_sync(sync)?;
        if let Some(p) = store::syncs::mailbox_position(&self.conn, &sync.id)? {
            transport.resume_from(&p);
        }
        let mut report = CycleReport::default();
        report.enqueued += outgoing::collect(&mut self.conn, &self.tracker, sync)?;
        // A receive side that is down (IMAP, an unmounted share) must not
        // stop sending: send first what is due, then report the failure.
        let received = incoming::receive(self, sync, &transport);
        if let Some(p) = transport.position() {
            store::syncs::set_mailbox_position(&self.conn, &sync.id, &p)?;
        }
        let after = store::syncs::get(&self.conn, &sync.id)?.context("sync vanished")?;
        // The accept may have told us where the partner's mail goes.
        let transport =
            if after.mail != sync.mail { crate::transport::AnyTransport::for_sync(&after)? } else { transport };
        let sent = outgoing::send(&mut self.conn, &self.key, &self.retired, &after, &transport);
        if let (Some(new), Ok(r)) = (&after.replaced_by, &received) {
            if r.applied > 0 {
                // What the old sync still pairs, the new one knows too.
                store::syncs::inherit_links(&self.conn, &after.id, new)?;
            }
        }
        match (received, sent) {
            (Ok(r), Ok(n)) => {
                report.add(r);
                report.sent += n;
                Ok(report)
            }
            (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
            (Err(r), Err(s)) => Err(r.context(format!("sending failed too: {s:#}"))),
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
