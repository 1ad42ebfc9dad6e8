//! Key rotation without a new handshake.
//!
//! `postern key rotate` retires the own key (kept in `keys/retired/`) and
//! installs a new one. Each paired sync then queues a numbered *rekey*
//! message carrying the new certificate, signed by the old key. Messages
//! numbered up to the rekey are signed by the old key, later ones by the
//! new key. The partner pins the new certificate when it applies the
//! rekey in order, and from then on believes the old key only for the
//! messages that were already in flight.

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, TransactionBehavior};

use super::Peer;
use crate::crypto::{cert_from_armored, fingerprint, generate_key, OwnKey};
use crate::protocol::Body;
use crate::store::{now_ms, outbox, syncs, SyncRecord};

/// The key that signs message `seq` (0: a control message) of `sync`.
pub fn signer<'a>(current: &'a OwnKey, retired: &'a [OwnKey], sync: &SyncRecord, seq: u64) -> Result<&'a OwnKey> {
    let (Some(prev), Some(rekey)) = (&sync.own_prev_fpr, sync.own_rekey_seq) else { return Ok(current) };
    if !super::rules::signs_with_previous_key(Some(rekey), seq, sync.out_acked) {
        return Ok(current);
    }
    retired.iter().find(|k| &k.fingerprint() == prev).with_context(|| {
        format!("the retired key {prev} is missing from keys/retired/; messages up to {rekey} need it")
    })
}

/// Queues a rekey message for every paired sync whose partner knows
/// another key of ours. Runs at every start, so an interrupted rotation is
/// finished. Returns the names of the syncs told.
pub fn queue_rekeys(conn: &mut Connection, current: &OwnKey) -> Result<Vec<String>> {
    let fpr = current.fingerprint();
    syncs::adopt_own_fpr(conn, &fpr)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut told = Vec::new();
    for s in syncs::list(&tx)? {
        let Some(known) = s.own_fpr.clone() else { continue };
        if known == fpr || s.partner_cert.is_none() {
            continue;
        }
        let seq =
            outbox::enqueue(&tx, &s.id, &Body::Rekey { cert: current.public_for(&super::own_user_id(&s))? }, now_ms())?;
        syncs::set_own_rekey(&tx, &s.id, &known, &fpr, seq)?;
        tracing::info!(sync = %s.name, seq, old = %known, new = %fpr, "new key announced to the partner");
        told.push(s.name);
    }
    tx.commit()?;
    Ok(told)
}

/// `postern key rotate`: the peer must not be running elsewhere (the
/// caller holds the home lock through `peer`).
pub fn rotate(peer: &mut Peer) -> Result<(String, String, Vec<String>)> {
    for s in syncs::list(&peer.conn)? {
        if s.partner_cert.is_none() {
            bail!("sync '{}' has no partner yet: finish its handshake before rotating the key", s.name);
        }
        if let Some(r) = s.own_rekey_seq.filter(|r| s.out_acked < *r) {
            bail!("sync '{}': the partner has not yet acknowledged the previous rotation (message {r}); run until it does", s.name);
        }
    }
    let keys_dir = peer.home.keys_dir();
    let old = peer.key.fingerprint();
    let new = OwnKey::from_cert(generate_key("postern peer")?)?;
    peer.key.retire(&keys_dir)?;
    new.store(&keys_dir)?;
    peer.key = std::sync::Arc::new(new);
    // The retired key is read back as the others are.
    peer.retired = std::sync::Arc::new(OwnKey::load_retired(&keys_dir)?);
    let told = queue_rekeys(&mut peer.conn, &peer.key)?;
    Ok((old, peer.key.fingerprint(), told))
}

/// Checks a rekey's certificate before anything is taken.
pub fn check_cert(armored: &str) -> Result<String, String> {
    let cert =
        cert_from_armored(armored.as_bytes()).map_err(|e| format!("rekey carries no valid certificate: {e:#}"))?;
    if cert.is_tsk() {
        return Err("rekey carries secret key material".into());
    }
    Ok(fingerprint(&cert))
}

/// Partner side: pins the new certificate from rekey message `seq`.
pub fn pin_new(conn: &Connection, sync: &SyncRecord, armored: &str, seq: u64) -> Result<()> {
    let fpr = check_cert(armored).map_err(anyhow::Error::msg)?;
    syncs::rekey_partner(conn, sync, &fpr, armored, seq)?;
    tracing::info!(sync = %sync.name, seq, new = %fpr, "partner rotated its key; new certificate pinned");
    Ok(())
}
