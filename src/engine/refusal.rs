//! An accept the master refused, told to the slave: a genuine slave (its
//! accept proves the handshake's pairing secret) refused for a reason it
//! can act on (a second sync between the same project and partner, an
//! expired handshake) learns why and shows it as `FAILING refused`,
//! instead of waiting in `handshake` forever. The master quarantines such
//! an accept once; the slave's resends of it are dropped (and answered).

use anyhow::Result;
use sequoia_openpgp::Cert;

use crate::crypto::password::{pairing_proof, proofs_equal};
use crate::crypto::{fingerprint, OwnKey};
use crate::protocol::{Body, Envelope};
use crate::store::{now_ms, SyncRecord};
use crate::transport::Transport;

/// Whether `env`, an accept of `cert`, proves the handshake's pairing
/// secret: it comes from the partner the handshake file was given to, so a
/// refusal is told to it (see [`tell`]).
pub fn proves_pairing(sync: &SyncRecord, env: &Envelope, cert: &Cert) -> bool {
    let (Body::Accept { proof, .. }, Some(secret)) = (&env.body, sync.pairing_secret.as_deref()) else {
        return false;
    };
    proofs_equal(proof, &pairing_proof(secret, &sync.id, &fingerprint(cert)))
}

/// Tells the slave whose accept (`env`, of `cert`) was refused why: a
/// control message signed by `key`, encrypted to `cert`, through the sync's
/// folder or to the address the accept gave.
pub fn tell(key: &OwnKey, sync: &SyncRecord, env: &Envelope, cert: &Cert, reason: &str) -> Result<()> {
    let mut to = sync.clone();
    if let (Some(mail), Body::Accept { address: Some(address), .. }) = (&sync.mail, &env.body) {
        let mut m: crate::transport::mail::MailSettings = serde_json::from_str(mail)?;
        m.partner_address = Some(address.clone());
        to.mail = Some(serde_json::to_string(&m)?);
    }
    let answer = Envelope {
        postern: crate::protocol::FORMAT_VERSION,
        sync: sync.id.clone(),
        from: key.fingerprint(),
        to: fingerprint(cert),
        seq: 0,
        ack: 0,
        sent_at: now_ms(),
        body: Body::Refused { reason: reason.to_string() },
    };
    let transport = crate::transport::AnyTransport::for_sync(&to)?;
    let json = answer.to_json();
    let plain = if transport.mime_entity() {
        crate::protocol::entity::wrap(&answer, &json, &sync.name, &format!("the {} peer", sync.role.as_str()))
    } else {
        json
    };
    let sealed = crate::crypto::seal(key.cert(), cert, &plain)?;
    let name = crate::protocol::names::message_name(&sync.id, 0, &crate::protocol::names::new_nonce());
    transport.send(&name, &sealed)
}
