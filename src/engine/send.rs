//! Sending: what the outbox holds, sealed and written to the transport
//! (new messages, those not acknowledged in time, a bare acknowledgement,
//! a resend request when a gap lasts), and when the next is due.

use anyhow::Result;
use rusqlite::Connection;

use crate::crypto::{seal, seal_uncompressed, OwnKey};
use crate::protocol::entity;
use crate::protocol::names::{self, message_name};
use crate::protocol::{Body, Envelope, FORMAT_VERSION};
use crate::store::{now_ms, outbox, syncs, SyncRecord};
use crate::transport::Transport;

/// Seals and writes what is due: outbox entries never sent or not
/// acknowledged within the resend time; otherwise a bare acknowledgement if
/// one is owed; and a resend request when a gap has lasted. Returns the
/// number of files written.
pub fn send(
    conn: &mut Connection,
    key: &OwnKey,
    retired: &[OwnKey],
    sync: &SyncRecord,
    transport: &impl Transport,
) -> Result<u64> {
    let Some(partner) = super::partner_cert(sync)? else {
        return Ok(0);
    };
    let partner_fpr = sync.partner_fpr.clone().unwrap_or_default();
    let now = now_ms();
    let sender = match super::own_address(sync) {
        Some(a) => format!("the {} peer <{a}>", sync.role.as_str()),
        None => format!("the {} peer", sync.role.as_str()),
    };
    // Signed by the key the partner expects for this number (rotation).
    let write = |seq: u64, mut body: Body| -> Result<()> {
        // A chunk's bytes come from its spool file, only now.
        super::transfers::out::payload(conn, &sync.id, &mut body)?;
        let signer = super::rekey::signer(key, retired, sync, seq)?;
        let env = Envelope {
            postern: FORMAT_VERSION,
            sync: sync.id.clone(),
            from: signer.fingerprint(),
            to: partner_fpr.clone(),
            seq,
            ack: sync.in_seq,
            sent_at: now,
            body,
        };
        let sealed = match env.chunk_plaintext() {
            Some((head, data)) => seal_uncompressed(signer.cert(), &partner, &[&head, data])?,
            None => {
                let json = env.to_json();
                let plain = if transport.mime_entity() { entity::wrap(&env, &json, &sync.name, &sender) } else { json };
                seal(signer.cert(), &partner, &plain)?
            }
        };
        transport.send(&message_name(&sync.id, seq, &names::new_nonce()), &sealed)
    };
    let mut sent = 0;
    for entry in outbox::due(conn, &sync.id, now, sync.resend_after_ms)? {
        tracing::debug!(sync = %sync.name, seq = entry.seq, attempt = entry.attempts + 1, "sending message");
        write(entry.seq, entry.body)?;
        // The resend clock starts when the send is done: a send that took
        // longer than the resend time is not due again at once.
        outbox::mark_sent(conn, &sync.id, entry.seq, now_ms())?;
        sent += 1;
    }
    if sent == 0 && sync.ack_due {
        tracing::debug!(sync = %sync.name, ack = sync.in_seq, "sending acknowledgement");
        write(0, Body::Ack)?;
        sent += 1;
    }
    if sync.ack_due {
        crate::store::receipts::acknowledged(conn, &sync.id)?;
    }
    let (held, lowest, oldest) = outbox::held_summary(conn, &sync.id)?;
    if let (true, Some(lowest), Some(oldest)) = (held > 0, lowest, oldest) {
        let ask = super::rules::ask_for_resend(
            &super::rules::SystemClock,
            oldest,
            sync.last_resend_request_at,
            sync.gap_after_ms,
        );
        if let (true, Some((from, to))) = (ask, crate::protocol::sequence::missing_range(sync.in_seq, lowest)) {
            tracing::info!(sync = %sync.name, from, to, "gap in incoming messages; asking for a resend");
            write(0, Body::Resend { from, to })?;
            syncs::set_resend_request_at(conn, &sync.id, now)?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// When [`send`] next has something to do on time alone, in ms since the
/// epoch: a message never sent or due for a resend, an acknowledgement
/// owed, a gap that has lasted; `None` when nothing waits on time.
pub fn next_due(conn: &Connection, sync: &SyncRecord) -> Result<Option<i64>> {
    if sync.partner_fpr.is_none() {
        return Ok(None);
    }
    if sync.ack_due || super::transfers::out::can_feed(conn, &sync.id)? {
        return Ok(Some(0));
    }
    let resend = outbox::next_send(conn, &sync.id, sync.resend_after_ms)?;
    let (held, _, oldest) = outbox::held_summary(conn, &sync.id)?;
    let gap = oldest
        .filter(|_| held > 0)
        .map(|oldest| super::rules::resend_request_due(oldest, sync.last_resend_request_at, sync.gap_after_ms));
    Ok(match (resend, gap) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}
