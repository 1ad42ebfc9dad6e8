//! Incoming: open, check, then apply, hold, drop or quarantine each file.

use anyhow::{Context, Result};
use rusqlite::{Connection, TransactionBehavior};

use super::journal::Journaled;
use super::{apply, handshake, CycleReport, Peer, Rejected, MAX_MESSAGE_BYTES};
use crate::crypto::message::Secret;
use crate::crypto::{cert_from_armored, open, CryptoError};
use crate::protocol::{classify, names, Arrival, Body, Envelope};
use crate::store::seen::{self, PriorCopy};
use crate::store::{self, now_ms, outbox, problems, receipts, syncs, SyncRecord};
use crate::tracker::{TResult, TrackerError};
use crate::transport::{Incoming, Transport};

/// What a receive came to: what moved, and the tracker's trouble if it
/// stopped the applying (the message and those after it wait).
#[derive(Debug, Default)]
pub struct Received {
    pub report: CycleReport,
    pub tracker_down: Option<anyhow::Error>,
}

/// Processes everything waiting in the sync's RECEIVE side. An error is
/// the transport's (or the database's); a tracker that is away is said in
/// [`Received::tracker_down`].
pub fn receive(peer: &mut Peer, sync: &SyncRecord, transport: &impl Transport) -> Result<Received> {
    let mut report = CycleReport::default();
    // Issues the partner's messages created or changed in this cycle, and
    // how many the admin allowed (what was held when allowed).
    let mut issues = CycleIssues::default();
    for item in transport.list()? {
        report.received += 1;
        // Re-read: the previous file may have changed the sync.
        let sync = syncs::get(&peer.conn, &sync.id)?.context("sync vanished")?;
        let Some((digest, outcome)) = process(peer, &sync, transport, &item, &mut issues)? else {
            continue;
        };
        match outcome {
            // Over the mass-change threshold: nothing of it was kept; it and
            // what follows wait for the admin.
            Outcome::MassChange(count) => {
                super::mass::hold(&peer.conn, &sync, "receive", count)?;
                break;
            }
            // Nothing of it was kept: the file stays, and so do the ones
            // after it (they come in order); the cycle says why.
            Outcome::TrackerDown(reason, retry_after) => {
                tracing::warn!(sync = %sync.name, file = %item.id, %reason, "tracker unreachable; the message waits");
                peer.tracker_asked_to_wait(&sync.id, retry_after, &reason);
                let why = anyhow::anyhow!(
                    "the tracker is unavailable: {reason}; message {} and what follows wait and are tried again",
                    item.id
                );
                return Ok(Received { report, tracker_down: Some(why) });
            }
            // Removed only now that what it carried is committed.
            Outcome::Taken(r) => {
                report.add(r);
                transport.remove(&item.id)?;
                seen::mark_removed(&peer.conn, &sync.id, &digest)?;
            }
            Outcome::Rejected(Rejected(reason)) => {
                tracing::warn!(sync = %sync.name, file = %item.id, %reason, "message quarantined");
                transport.quarantine(&item.id, &reason)?;
                problems::log_quarantine(&peer.conn, Some(&sync.id), &item.id, &reason, now_ms())?;
                report.quarantined += 1;
            }
        }
    }
    Ok(Received { report, tracker_down: None })
}

/// The partner's issues this cycle's messages created or changed, and how
/// many the admin allowed (what was held when allowed).
#[derive(Default)]
struct CycleIssues {
    seen: std::collections::HashSet<String>,
    allowed: usize,
}

/// What became of one message: its digest and the outcome.
type Processed = (String, Outcome);

/// What became of one message.
enum Outcome {
    /// Applied, held or dropped as a duplicate: it can be removed.
    Taken(CycleReport),
    /// Refused: quarantined with the reason.
    Rejected(Rejected),
    /// The tracker could not be reached: nothing was kept; it stays.
    TrackerDown(String, Option<std::time::Duration>),
    /// It would take the cycle over the mass-change threshold (this many
    /// issues): nothing was kept; it stays.
    MassChange(usize),
}

impl From<Result<CycleReport, Rejected>> for Outcome {
    fn from(r: Result<CycleReport, Rejected>) -> Self {
        match r {
            Ok(c) => Outcome::Taken(c),
            Err(e) => Outcome::Rejected(e),
        }
    }
}

/// Opens, checks and takes one message. `None`: the file went away before
/// it could be read. The inner `Err` is a refusal (quarantine), the outer
/// one a failure to retry later (the file stays).
fn process(
    peer: &mut Peer,
    sync: &SyncRecord,
    transport: &impl Transport,
    item: &Incoming,
    issues: &mut CycleIssues,
) -> Result<Option<Processed>> {
    let name = names::parse(&item.name).context("listed a name that is not ours")?;
    if name.sync != sync.id {
        let why = format!("addressed to sync {}, not {} ({})", name.sync, sync.id, sync.name);
        return Ok(Some((String::new(), Outcome::Rejected(Rejected(why)))));
    }
    if item.size as usize > MAX_MESSAGE_BYTES {
        let why = format!("{} bytes, over the limit of {MAX_MESSAGE_BYTES} bytes", item.size);
        return Ok(Some((String::new(), Outcome::Rejected(Rejected(why)))));
    }
    let data = match transport.read(&item.id, MAX_MESSAGE_BYTES as u64) {
        Ok(d) => d,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let digest = seen::digest(&data);
    let outcome = match seen::lookup(&peer.conn, &sync.id, &digest)? {
        // Taken before a crash, not yet removed: finish the removal.
        PriorCopy::Leftover { .. } => Outcome::Taken(CycleReport { duplicates: 1, ..Default::default() }),
        // An exact copy of a message applied before (a transport that
        // duplicates files, or a replay): it can do no harm and is dropped
        // as a duplicate; quarantine stays for what is forged or damaged.
        PriorCopy::Replay { seq } => {
            tracing::debug!(sync = %sync.name, seq, "an exact copy of a message applied before: dropped");
            Outcome::Taken(CycleReport { duplicates: 1, ..Default::default() })
        }
        PriorCopy::New => {
            let opened = open_checked(peer, sync, &data, name.seq);
            drop(data); // a large chunk: its sealed form is not needed any more
            match opened {
                Err(rejected) => Outcome::Rejected(rejected),
                Ok(Opened::Accept(env, cert)) => {
                    match handshake::take_accept(&mut peer.conn, sync, &env, &cert, &digest)? {
                        Ok(()) => Outcome::Taken(CycleReport { applied: 1, ..Default::default() }),
                        Err(refused) => refused_accept(peer, sync, &env, &cert, refused)?,
                    }
                }
                Ok(Opened::Message(env)) => take(peer, sync, &env, &digest, issues)?,
            }
        }
    };
    Ok(Some((digest, outcome)))
}

/// An accept that was refused: a genuine slave's is answered with the
/// reason (see [`super::refusal`]) and quarantined once, its resends only
/// answered; anything else is quarantined.
fn refused_accept(
    peer: &Peer,
    sync: &SyncRecord,
    env: &Envelope,
    cert: &sequoia_openpgp::Cert,
    refused: Rejected,
) -> Result<Outcome> {
    if !super::refusal::proves_pairing(sync, env, cert) {
        return Ok(Outcome::Rejected(refused));
    }
    if let Err(e) = super::refusal::tell(&peer.key, sync, env, cert, &refused.0) {
        tracing::warn!(sync = %sync.name, "the partner could not be told why its accept was refused: {e:#}");
    }
    if problems::quarantined_for(&peer.conn, &sync.id, &refused.0)? {
        tracing::info!(sync = %sync.name, reason = %refused.0, "the partner's accept came again: refused again (told, not quarantined again)");
        return Ok(Outcome::Taken(CycleReport { duplicates: 1, ..Default::default() }));
    }
    Ok(Outcome::Rejected(refused))
}

fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Rejected {}

enum Opened {
    Message(Envelope),
    /// The slave's accept, verified against the certificate it carries.
    Accept(Envelope, Box<sequoia_openpgp::Cert>),
}

fn open_checked(peer: &Peer, sync: &SyncRecord, data: &[u8], name_seq: Option<u64>) -> Result<Opened, Rejected> {
    let own: Vec<String> = std::iter::once(&*peer.key).chain(peer.retired.iter()).map(|k| k.fingerprint()).collect();
    let own_certs: Vec<_> = std::iter::once(&*peer.key).chain(peer.retired.iter()).map(|k| k.cert().clone()).collect();
    let Some(partner) = super::partner_cert(sync).map_err(|e| Rejected(format!("{e:#}")))? else {
        let (env, cert) = handshake::open_accept(peer.key.cert(), data)?;
        check_envelope(sync, &own, &env, name_seq)?;
        return Ok(Opened::Accept(env, Box::new(cert)));
    };
    let previous = match &sync.partner_prev_cert {
        Some(c) => Some(cert_from_armored(c.as_bytes()).map_err(|e| Rejected(format!("{e:#}")))?),
        None => None,
    };
    // Our own certificates are candidate signers only to name a reflection.
    let mut signers = vec![partner];
    signers.extend(previous);
    signers.push(peer.key.cert().clone());
    let opened = match open(Secret::Keys(&own_certs), &signers, data, MAX_MESSAGE_BYTES) {
        Ok(o) => o,
        Err(CryptoError::BadSignature(why)) => {
            // A second slave answering the same handshake gets its own reason.
            if handshake::open_accept(peer.key.cert(), data).is_ok() {
                return Err(Rejected(format!(
                    "a second accept for this handshake was refused: the sync is already paired with {}",
                    sync.partner_fpr.as_deref().unwrap_or("?")
                )));
            }
            return Err(Rejected(format!("not signed by the pinned partner key: {why}")));
        }
        Err(e) => return Err(Rejected(e.to_string())),
    };
    let signer = opened.signer.to_hex();
    if own.contains(&signer) {
        return Err(Rejected("one of our own messages, reflected back".into()));
    }
    let env = Envelope::from_plaintext_vec(opened.plaintext).map_err(Rejected)?;
    check_envelope(sync, &own, &env, name_seq)?;
    if env.from != signer {
        return Err(Rejected(format!("claims to be from {} but is signed by {signer}", env.from)));
    }
    if Some(&signer) == sync.partner_fpr.as_ref() {
        if sync.partner_prev_fpr.is_some() && !sync.partner_prev_retired {
            // The partner now signs with its new key: its old one is done.
            syncs::retire_partner_prev(&peer.conn, &sync.id).map_err(|e| Rejected(format!("{e:#}")))?;
        }
    } else if Some(&signer) == sync.partner_prev_fpr.as_ref() {
        let until = sync.partner_prev_until.unwrap_or(0);
        let in_flight = if env.seq == 0 { !sync.partner_prev_retired } else { env.seq <= until };
        if !in_flight {
            return Err(Rejected(format!(
                "signed by the partner's retired key {signer}, which is believed only for messages up to {until}"
            )));
        }
    } else {
        return Err(Rejected("signed by a key other than the pinned partner key".into()));
    }
    if let Body::Rekey { cert } = &env.body {
        super::rekey::check_cert(cert).map_err(Rejected)?;
    }
    Ok(Opened::Message(env))
}

fn check_envelope(sync: &SyncRecord, own: &[String], env: &Envelope, name_seq: Option<u64>) -> Result<(), Rejected> {
    if env.sync != sync.id {
        return Err(Rejected(format!("for sync {}, not this one ({})", env.sync, sync.id)));
    }
    if !own.contains(&env.to) {
        if own.contains(&env.from) {
            return Err(Rejected("one of our own messages, reflected back".into()));
        }
        return Err(Rejected(format!("addressed to key {}, not ours", env.to)));
    }
    if name_seq.unwrap_or(0) != env.seq {
        return Err(Rejected(format!("file name says message {}, content says {}", name_seq.unwrap_or(0), env.seq)));
    }
    Ok(())
}

/// Takes a verified message in one transaction: acknowledgement, contact,
/// and apply / hold / drop, draining held messages that become next.
fn take(peer: &mut Peer, sync: &SyncRecord, env: &Envelope, digest: &str, issues: &mut CycleIssues) -> Result<Outcome> {
    let mut report = CycleReport::default();
    tracing::debug!(sync = %sync.name, seq = env.seq, kind = env.body.kind(), ack = env.ack, "message verified");
    // The tracker works on the same connection (the embedded tracker
    // writes in this transaction) and outlives it (the journal is told).
    let conn: &Connection = &peer.conn;
    let tx = rusqlite::Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
    let any = crate::engine::tracker_of::for_sync(sync, conn)?;
    let tracker = Journaled::new(&any, conn, &sync.id)?;
    let now = now_ms();
    if env.ack > sync.out_seq {
        let why = format!("acknowledges message {}, but only {} were sent", env.ack, sync.out_seq);
        return Ok(Outcome::Rejected(Rejected(why)));
    }
    if let Body::Refused { reason } = &env.body {
        // No contact: the handshake is not complete; the admin is told.
        let why = anyhow::anyhow!("the partner refused this side's accept: {reason}");
        tracing::error!(sync = %sync.name, "{why}");
        store::trouble::record(&tx, &sync.id, "refused", Some(&why))?;
        seen::record(&tx, &sync.id, digest, 0, now)?;
        tx.commit()?;
        return Ok(Outcome::Taken(report));
    }
    // Any other message from the partner: heard (whatever it refused is past).
    receipts::heard(&tx, sync, env.ack, (env.seq > 0).then_some(env.seq), now)?;
    match &env.body {
        Body::Ack | Body::Refused { .. } => {}
        Body::Resend { from, to } => {
            let n = outbox::make_due(&tx, &sync.id, *from, *to)?;
            tracing::info!(sync = %sync.name, from, to, due = n, "partner asked for a resend");
        }
        Body::Accept { .. } | Body::Changes { .. } | Body::Rekey { .. } | Body::Chunk { .. } => {
            match classify(sync.in_seq, env.seq) {
                Arrival::Duplicate => {
                    receipts::repeated(&tx, &sync.id)?;
                    report.duplicates += 1;
                }
                Arrival::Hold => {
                    outbox::hold(&tx, &sync.id, env.seq, env, now)?;
                    report.held += 1;
                }
                Arrival::Apply
                    if peer.tracker_waiting(&sync.id)
                        && matches!(env.body, Body::Changes { .. } | Body::Chunk { .. }) =>
                {
                    let why = "it did not answer this cycle, or is not to be asked yet".to_string();
                    return Ok(Outcome::TrackerDown(why, None));
                }
                Arrival::Apply => {
                    if let Body::Changes { changes, .. } = &env.body {
                        // Distinct issues: many messages about one issue are one.
                        let new: Vec<String> = super::mass::issues(changes)
                            .into_iter()
                            .filter(|i| !issues.seen.contains(*i))
                            .map(str::to_string)
                            .collect();
                        let count = issues.seen.len() + new.len();
                        // What the admin allowed holds for the whole cycle (the
                        // permission is used up by the first message).
                        issues.allowed = issues.allowed.max(super::mass::allowed_up_to(sync, "receive"));
                        if super::mass::beyond(sync, count) && count > issues.allowed {
                            // What waits: this message's issues (those before
                            // it in this cycle went through).
                            return Ok(Outcome::MassChange(new.len()));
                        }
                        super::mass::passed(&tx, sync, "receive")?;
                        issues.seen.extend(new);
                    }
                    // The message, then any held ones that follow it (no copy
                    // of a large chunk).
                    let mut held: Option<Envelope> = None;
                    loop {
                        let env = held.as_ref().unwrap_or(env);
                        match apply_in_order(&tx, &tracker, sync, env) {
                            Ok(()) => report.applied += 1,
                            // The transaction is dropped: nothing of this message is kept.
                            Err(TrackerError::Unavailable { reason, retry_after }) => {
                                return Ok(Outcome::TrackerDown(reason, retry_after));
                            }
                            Err(e) => return Err(e.into()),
                        }
                        held = outbox::take_held(&tx, &sync.id, env.seq + 1)?;
                        if held.is_none() {
                            break;
                        }
                    }
                }
            }
        }
    }
    seen::record(&tx, &sync.id, digest, env.seq, now)?;
    let in_seq = syncs::get(&tx, &sync.id)?.map_or(0, |s| s.in_seq);
    tx.commit()?;
    tracker.done_up_to(in_seq)?;
    // A transfer finished, refused or cancelled by this message goes now.
    super::transfers::inbound::clean(conn, &sync.id)?;
    if env.ack > sync.out_acked {
        super::transfers::out::finish_acknowledged(conn, sync)?;
    }
    Ok(Outcome::Taken(report))
}

fn apply_in_order(conn: &Connection, tracker: &Journaled, sync: &SyncRecord, env: &Envelope) -> TResult<()> {
    let changes = match &env.body {
        Body::Changes { changes, .. } => changes.len(),
        _ => 0,
    };
    crate::store::activity::count(conn, &sync.id, crate::store::activity::Way::In, changes, crate::store::now_ms())?;
    match &env.body {
        Body::Changes { changes, via } => apply::apply_message(conn, tracker, sync, (env.seq, env.ack), changes, via)?,
        Body::Rekey { cert } => super::rekey::pin_new(conn, sync, cert, env.seq)?,
        Body::Chunk { transfer, issue, attachment, index, total, offset, len, via, data } => {
            let chunk = super::transfers::inbound::Chunk {
                transfer,
                issue,
                attachment: attachment.as_ref(),
                index: *index,
                total: *total,
                offset: *offset,
                len: *len,
                via,
                data,
            };
            // The last piece brings the whole attachment, applied as a change.
            if let Some(change) = super::transfers::inbound::take(conn, sync, env.seq, &chunk)? {
                apply::apply_message(conn, tracker, sync, (env.seq, env.ack), &[change], via)?
            }
        }
        _ => {}
    }
    Ok(receipts::applied(conn, &sync.id, env.seq)?)
}
