//! The master taking the slave's accept: the one message whose signer is
//! not pinned yet is verified against the certificate it carries, its
//! pairing proof and expiry checked, and the slave pinned.

use rusqlite::{Connection, TransactionBehavior};
use sequoia_openpgp::Cert;

use super::agreed_limit;
use crate::crypto::message::{open_unverified, verify_cached, Secret};
use crate::crypto::password::{pairing_proof, proofs_equal};
use crate::crypto::{cert_from_armored, fingerprint};
use crate::engine::{Rejected, MAX_MESSAGE_BYTES};
use crate::protocol::{Body, Envelope};
use crate::store::{now_ms, receipts, replace, syncs, SyncRecord};
use anyhow::Result;

/// Master: opens an accept message, verifying it against the certificate
/// it carries (the only message whose signer is not pinned yet).
pub fn open_accept(own: &Cert, data: &[u8]) -> Result<(Envelope, Cert), Rejected> {
    let (plain, session) =
        open_unverified(Secret::Key(own), data, MAX_MESSAGE_BYTES).map_err(|e| Rejected(e.to_string()))?;
    let env = Envelope::from_plaintext(&plain).map_err(Rejected)?;
    let Body::Accept { cert, .. } = &env.body else {
        return Err(Rejected(format!(
            "{}: a {} message made for this sync (the partner sends it again once its accept is in)",
            crate::store::problems::EARLY,
            env.body.kind()
        )));
    };
    let cert = cert_from_armored(cert.as_bytes())
        .map_err(|e| Rejected(format!("accept carries no valid certificate: {e:#}")))?;
    let opened =
        verify_cached(&session, &cert, data, MAX_MESSAGE_BYTES).map_err(|e| Rejected(format!("accept: {e}")))?;
    if opened.signer != cert.fingerprint() || env.from != fingerprint(&cert) {
        return Err(Rejected("accept is not signed by the certificate it carries".into()));
    }
    if env.seq != 1 {
        return Err(Rejected(format!("accept must be message 1, not {}", env.seq)));
    }
    Ok((env, cert))
}

/// Master: checks the pairing proof and expiry, then pins the slave.
/// The outer `Result` is for database failures, the inner for refusals.
pub fn take_accept(
    conn: &mut Connection,
    sync: &SyncRecord,
    env: &Envelope,
    cert: &Cert,
    digest: &str,
) -> Result<Result<(), Rejected>> {
    let Body::Accept { proof, address, max_message_bytes, .. } = &env.body else {
        unreachable!("open_accept checked the kind")
    };
    if sync.pairing_used {
        return Ok(Err(Rejected("a second accept for this handshake was refused: it was already used".into())));
    }
    let Some(secret) = sync.pairing_secret.as_deref() else {
        return Ok(Err(Rejected("this sync has no open handshake".into())));
    };
    let fpr = fingerprint(cert);
    if !proofs_equal(proof, &pairing_proof(secret, &sync.id, &fpr)) {
        return Ok(Err(Rejected("accept does not prove knowledge of the handshake's pairing secret".into())));
    }
    if sync.handshake_expires.is_some_and(|e| e < env.sent_at.min(now_ms())) {
        return Ok(Err(Rejected("accept was made after the handshake expired".into())));
    }
    if let Some(other) = replace::same_pairing(conn, &sync.project, &fpr, &sync.id)? {
        return Ok(Err(Rejected(replace::same_pairing_error(&other, &sync.project))));
    }
    let armored = crate::crypto::cert_to_armored(cert)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    syncs::pin_partner(&tx, &sync.id, &fpr, &armored)?;
    if let (Some(mail), Some(address)) = (&sync.mail, address) {
        let mut m: crate::transport::mail::MailSettings = serde_json::from_str(mail)?;
        m.partner_address = Some(address.clone());
        syncs::set_mail(&tx, &sync.id, &serde_json::to_string(&m)?)?;
    }
    syncs::set_max_message_bytes(&tx, &sync.id, agreed_limit(sync.max_message_bytes, *max_message_bytes))?;
    // The accept is the partner's message 1.
    receipts::heard(&tx, sync, env.ack, Some(1), now_ms())?;
    receipts::applied(&tx, &sync.id, 1)?;
    crate::store::seen::record(&tx, &sync.id, digest, 1, now_ms())?;
    tx.commit()?;
    tracing::info!(sync = %sync.name, partner = %fpr, "handshake accepted; partner pinned");
    Ok(Ok(()))
}
