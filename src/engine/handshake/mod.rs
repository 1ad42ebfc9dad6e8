//! Pairing: the master's handshake file, the slave's upload and accept
//! message, and the master taking the accept.
//!
//! The handshake file is a JSON document signed by the master's key and
//! encrypted with a random passphrase (OpenPGP SKESK). Its reader decrypts,
//! takes the certificate inside and checks the signature was made by it.

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, TransactionBehavior};
use sequoia_openpgp::Cert;
use serde::{Deserialize, Serialize};

use super::MAX_MESSAGE_BYTES;
use crate::crypto::message::{open_unverified, seal_with_password, verify_cached, Secret};
use crate::crypto::password::{new_passphrase, new_secret, pairing_proof};
use crate::crypto::{cert_from_armored, fingerprint, CryptoError, OwnKey};
use crate::protocol::Body;
use crate::store::{now_ms, outbox, replace, syncs, Role, SyncRecord, SyncState};
use crate::tracker::{Embedded, Reads};
use crate::transport::FileTransport;

mod take;
pub use take::{open_accept, take_accept};

pub const HANDSHAKE_VERSION: u32 = 1;
const HANDSHAKE_LIMIT: usize = 1024 * 1024;

/// What the master hands to the slave. `Debug` hides the pairing secret.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandshakeFile {
    pub postern_handshake: u32,
    pub sync_id: String,
    pub name: String,
    pub description: String,
    pub protocol: String,
    pub master_fingerprint: String,
    pub master_cert: String,
    /// Folder names inside an exchange directory.
    pub send_folder: String,
    pub receive_folder: String,
    pub pairing_secret: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Where the slave sends its mails (email protocol).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail_address: Option<String>,
    /// The largest message the master's side takes; the slave sends no
    /// larger ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_bytes: Option<u64>,
    /// The id of the sync this one replaces on the master's side: the
    /// slave must replace the same one, and may replace none otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

impl std::fmt::Debug for HandshakeFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandshakeFile")
            .field("sync_id", &self.sync_id)
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .field("master_fingerprint", &self.master_fingerprint)
            .field("pairing_secret", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl HandshakeFile {
    /// Parses the decrypted contents and the certificate inside; checks the
    /// version and that the fingerprint is the certificate's.
    pub fn parse(plain: &[u8]) -> Result<(Self, Cert), HandshakeError> {
        let file: HandshakeFile =
            serde_json::from_slice(plain).map_err(|e| HandshakeError::Malformed(e.to_string()))?;
        if file.postern_handshake != HANDSHAKE_VERSION {
            return Err(HandshakeError::Malformed(format!("version {} is not supported", file.postern_handshake)));
        }
        let cert =
            cert_from_armored(file.master_cert.as_bytes()).map_err(|e| HandshakeError::Malformed(format!("{e:#}")))?;
        if fingerprint(&cert) != file.master_fingerprint {
            return Err(HandshakeError::BadSignature("the fingerprint does not match the certificate".into()));
        }
        if cert.is_tsk() {
            return Err(HandshakeError::Malformed("it carries secret key material".into()));
        }
        Ok((file, cert))
    }
}

/// Why a handshake file was refused; each case has its own words.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    #[error("wrong passphrase for this handshake file (check it with the master's admin)")]
    WrongPassphrase,
    #[error("the handshake file is damaged or was altered: {0}")]
    Tampered(String),
    #[error("the handshake file is not signed by the master key it contains: {0}")]
    BadSignature(String),
    #[error("the handshake file expired at {0}; ask the master's admin for a new one")]
    Expired(String),
    #[error("not a postern handshake file: {0}")]
    Malformed(String),
}

/// Settings of a new sync, on either side.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub name: String,
    pub description: String,
    pub project: String,
    pub sync_user: String,
    pub exchange_dir: std::path::PathBuf,
    /// Mail settings: the email protocol; `None`: folders.
    pub mail: Option<crate::transport::mail::MailSettings>,
    /// The largest message this side sends or wants to receive.
    pub max_message_bytes: u64,
    /// Pass on changes other syncs of this home applied (a hub).
    pub forward: bool,
    /// The name of a sync of this home that this one takes over from.
    pub replaces: Option<String>,
    /// The tracker this side syncs.
    pub tracker: crate::tracker::TrackerSettings,
    /// What else the sync starts with, made in the same transaction.
    pub start: SyncStart,
}

/// What a new sync starts with besides its settings: stored with it in one
/// transaction, so a sync is made whole or not at all.
#[derive(Debug, Clone, Default)]
pub struct SyncStart {
    /// The mapping file's text.
    pub mapping: Option<String>,
    /// The existing issues to send once paired (a resync's pending JSON).
    pub initial_resync: Option<String>,
    /// The largest attachment that crosses, bytes.
    pub max_attachment_bytes: Option<u64>,
}

impl SyncStart {
    fn store(&self, conn: &Connection, sync_id: &str) -> Result<()> {
        if let Some(pending) = &self.initial_resync {
            syncs::set_initial_resync(conn, sync_id, Some(pending))?;
        }
        syncs::set_mapping(conn, sync_id, self.mapping.as_deref())?;
        if let Some(n) = self.max_attachment_bytes {
            crate::store::transfers::set_max_bytes(conn, sync_id, n)?;
        }
        Ok(())
    }
}

pub fn check_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || name.starts_with('.')
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("sync name '{name}' is invalid: use 1-64 letters, digits, '-', '_' or '.', not starting with '.'");
    }
    Ok(())
}

/// Everything an accept checks before it creates anything.
pub fn check_accept(conn: &Connection, file: &HandshakeFile, s: &SyncSettings) -> Result<()> {
    if syncs::get(conn, &file.sync_id)?.is_some() {
        bail!("this home already has the sync {} ('{}'): a handshake file is used once", file.sync_id, file.name);
    }
    check_settings(conn, s)?;
    replace::agreed(conn, file.replaces.as_deref(), s.replaces.as_deref())
}

/// Everything a create checks before it creates anything.
pub fn check_settings(conn: &Connection, s: &SyncSettings) -> Result<()> {
    check_name(&s.name)?;
    // A remote tracker is checked over the network by the CLI, before this.
    let embedded = s.tracker == crate::tracker::TrackerSettings::Embedded;
    if embedded && Embedded::new(conn).project(&s.project)?.is_none() {
        bail!(
            "project {} does not exist in this home's tracker; create it with `postern project create {}`",
            s.project,
            s.project
        );
    }
    if let Some(m) = &s.mail {
        m.check()?;
    }
    check_max_message_bytes(s.max_message_bytes)?;
    if s.sync_user.trim().is_empty() {
        bail!("the sync user must not be empty");
    }
    if syncs::get_by_name(conn, &s.name)?.is_some() {
        bail!("a sync named '{}' already exists in this home", s.name);
    }
    if let Some(old) = &s.replaces {
        replace::replaceable(conn, old, &s.project)?;
    }
    Ok(())
}

/// Hands the replaced sync's place to the new one, if it replaces one.
fn take_over(conn: &Connection, s: &SyncSettings, new_id: &str) -> Result<()> {
    if let Some(old) = &s.replaces {
        let old = replace::replaceable(conn, old, &s.project)?;
        replace::replace(conn, &old, new_id)?;
    }
    Ok(())
}

pub use super::{DEFAULT_MESSAGE_LIMIT, MIN_MESSAGE_LIMIT};

pub fn check_max_message_bytes(n: u64) -> Result<()> {
    if !(MIN_MESSAGE_LIMIT..=MAX_MESSAGE_BYTES as u64).contains(&n) {
        bail!(
            "a message size limit of {n} bytes is out of range: use {MIN_MESSAGE_LIMIT} to {MAX_MESSAGE_BYTES} bytes"
        );
    }
    Ok(())
}

/// The size limit both sides use: the smaller of ours and the partner's
/// (a partner's limit below the minimum counts as the minimum).
fn agreed_limit(ours: u64, theirs: Option<u64>) -> u64 {
    theirs.map_or(ours, |t| ours.min(t.max(MIN_MESSAGE_LIMIT)))
}

fn new_record(s: &SyncSettings, id: String, role: Role, now: i64) -> SyncRecord {
    SyncRecord {
        id,
        name: s.name.clone(),
        description: s.description.clone(),
        role,
        protocol: if s.mail.is_some() { "email".into() } else { "file".into() },
        project: s.project.clone(),
        sync_user: s.sync_user.clone(),
        exchange_dir: s.exchange_dir.to_string_lossy().into_owned(),
        state: SyncState::Handshake,
        partner_fpr: None,
        partner_cert: None,
        pairing_secret: None,
        pairing_used: false,
        handshake_expires: None,
        created_at: now,
        out_seq: 0,
        out_acked: 0,
        in_seq: 0,
        change_cursor: "0".into(),
        ack_due: false,
        last_received_at: None,
        last_received_seq: None,
        last_resend_request_at: None,
        resend_after_ms: 60_000,
        gap_after_ms: 10_000,
        own_fpr: None,
        own_prev_fpr: None,
        own_rekey_seq: None,
        partner_prev_fpr: None,
        partner_prev_cert: None,
        partner_prev_until: None,
        partner_prev_retired: false,
        mail: s.mail.as_ref().map(|m| serde_json::to_string(m).expect("json")),
        max_message_bytes: s.max_message_bytes,
        forward: s.forward,
        replaced_by: None,
        paused_at: None,
        initial_resync: None,
        last_resync: None,
        field_owners: Default::default(),
        mass_threshold: 100,
        mass_allowed: false,
        mass_held: None,
        mapping: None,
        tracker: match &s.tracker {
            crate::tracker::TrackerSettings::Embedded => None,
            other => Some(serde_json::to_string(other).expect("json")),
        },
    }
}

/// What creating a sync produced: the sealed handshake file and the
/// passphrase to give the partner by another channel.
pub struct Created {
    pub sync: SyncRecord,
    pub handshake: Vec<u8>,
    pub passphrase: String,
    pub fingerprint: String,
}

/// Master: creates the sync and its handshake file.
pub fn create_master(conn: &mut Connection, key: &OwnKey, s: &SyncSettings, valid_for_ms: i64) -> Result<Created> {
    create_master_then(conn, key, s, valid_for_ms, |_| Ok(()))
}

/// Master: creates the sync and its handshake file, and hands them to
/// `deliver` (which writes the file) before the sync is committed: when
/// `deliver` fails, no sync is made.
pub fn create_master_then(
    conn: &mut Connection,
    key: &OwnKey,
    s: &SyncSettings,
    valid_for_ms: i64,
    deliver: impl FnOnce(&Created) -> Result<()>,
) -> Result<Created> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    check_settings(&tx, s)?;
    let now = now_ms();
    let mut rec = new_record(s, uuid::Uuid::new_v4().to_string(), Role::Master, now);
    rec.own_fpr = Some(key.fingerprint());
    let secret = new_secret();
    rec.pairing_secret = Some(secret.clone());
    rec.handshake_expires = Some(now + valid_for_ms);
    rec.change_cursor = crate::engine::tracker_of::for_sync(&rec, &tx)?.start_cursor(&rec.project)?;
    let file = HandshakeFile {
        postern_handshake: HANDSHAKE_VERSION,
        sync_id: rec.id.clone(),
        name: rec.name.clone(),
        description: rec.description.clone(),
        protocol: rec.protocol.clone(),
        master_fingerprint: key.fingerprint(),
        master_cert: key.public_for(&super::own_user_id(&rec))?,
        send_folder: "SEND".into(),
        receive_folder: "RECEIVE".into(),
        pairing_secret: secret,
        created_at: now,
        expires_at: now + valid_for_ms,
        mail_address: s.mail.as_ref().map(|m| m.address.clone()),
        max_message_bytes: Some(s.max_message_bytes),
        replaces: match &s.replaces {
            Some(old) => Some(syncs::find(&tx, old)?.id),
            None => None,
        },
    };
    let passphrase = new_passphrase();
    let handshake = seal_with_password(key.cert(), &passphrase, &serde_json::to_vec(&file)?)?;
    if s.mail.is_none() {
        FileTransport::create_dirs(&s.exchange_dir)?;
    }
    syncs::insert(&tx, &rec)?;
    take_over(&tx, s, &rec.id)?;
    s.start.store(&tx, &rec.id)?;
    let created = Created { sync: rec, handshake, passphrase, fingerprint: key.fingerprint() };
    deliver(&created)?;
    tx.commit()?;
    Ok(created)
}

/// Slave: decrypts and checks a handshake file. Creates nothing.
pub fn read_handshake(data: &[u8], passphrase: &str) -> Result<HandshakeFile, HandshakeError> {
    let (plain, session) =
        open_unverified(Secret::Password(passphrase.trim()), data, HANDSHAKE_LIMIT).map_err(|e| match e {
            CryptoError::WrongPassphrase => HandshakeError::WrongPassphrase,
            other => HandshakeError::Tampered(other.to_string()),
        })?;
    let (file, cert) = HandshakeFile::parse(&plain)?;
    let opened = verify_cached(&session, &cert, data, HANDSHAKE_LIMIT)
        .map_err(|e| HandshakeError::BadSignature(e.to_string()))?;
    if opened.signer != cert.fingerprint() {
        return Err(HandshakeError::BadSignature("signed by another key".into()));
    }
    if file.expires_at < now_ms() {
        return Err(HandshakeError::Expired(format_ms(file.expires_at)));
    }
    Ok(file)
}

pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

/// Slave: creates the sync from a checked handshake and queues the accept
/// message (number 1) carrying our certificate and the pairing proof.
pub fn accept(conn: &mut Connection, key: &OwnKey, file: &HandshakeFile, s: &SyncSettings) -> Result<SyncRecord> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    check_accept(&tx, file, s)?;
    if file.master_fingerprint == key.fingerprint() {
        bail!("this handshake file was made with this home's own key; upload it on the partner's side");
    }
    if (file.protocol == "email") != s.mail.is_some() {
        bail!("this sync uses the {} protocol: give the matching settings", file.protocol);
    }
    if let Some(other) = replace::same_pairing(&tx, &s.project, &file.master_fingerprint, "")? {
        if s.replaces.as_deref() != Some(other.name.as_str()) {
            bail!(replace::same_pairing_error(&other, &s.project));
        }
    }
    let mut s = s.clone();
    if let Some(m) = s.mail.as_mut() {
        m.partner_address = Some(file.mail_address.clone().context("the handshake file names no mail address")?);
    }
    let s = &s;
    let now = now_ms();
    let mut rec = new_record(s, file.sync_id.clone(), Role::Slave, now);
    rec.own_fpr = Some(key.fingerprint());
    rec.description = file.description.clone();
    rec.partner_fpr = Some(file.master_fingerprint.clone());
    rec.partner_cert = Some(file.master_cert.clone());
    rec.pairing_used = true;
    rec.change_cursor = crate::engine::tracker_of::for_sync(&rec, &tx)?.start_cursor(&rec.project)?;
    rec.max_message_bytes = agreed_limit(rec.max_message_bytes, file.max_message_bytes);
    if s.mail.is_none() {
        FileTransport::create_dirs(&s.exchange_dir)?;
    }
    syncs::insert(&tx, &rec)?;
    take_over(&tx, s, &rec.id)?;
    s.start.store(&tx, &rec.id)?;
    let body = Body::Accept {
        cert: key.public_for(&super::own_user_id(&rec))?,
        proof: pairing_proof(&file.pairing_secret, &file.sync_id, &key.fingerprint()),
        address: s.mail.as_ref().map(|m| m.address.clone()),
        max_message_bytes: Some(rec.max_message_bytes),
    };
    outbox::enqueue(&tx, &rec.id, &body, now)?;
    tx.commit()?;
    syncs::get(conn, &rec.id)?.context("sync vanished")
}
