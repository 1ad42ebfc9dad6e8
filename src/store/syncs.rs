//! The `sync` table: one row per synchronization in this home.

use anyhow::{anyhow, bail, Result};
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Slave,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Slave => "slave",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncState {
    Handshake,
    Active,
}

impl SyncState {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncState::Handshake => "handshake",
            SyncState::Active => "active",
        }
    }
}

/// One synchronization. `pairing_secret` is redacted from `Debug`.
#[derive(Clone)]
pub struct SyncRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub role: Role,
    pub protocol: String,
    pub project: String,
    pub sync_user: String,
    pub exchange_dir: String,
    pub state: SyncState,
    pub partner_fpr: Option<String>,
    pub partner_cert: Option<String>,
    pub pairing_secret: Option<String>,
    pub pairing_used: bool,
    pub handshake_expires: Option<i64>,
    pub created_at: i64,
    pub out_seq: u64,
    pub out_acked: u64,
    pub in_seq: u64,
    /// Where reading the tracker's changes goes on (opaque).
    pub change_cursor: String,
    pub ack_due: bool,
    pub last_received_at: Option<i64>,
    pub last_received_seq: Option<u64>,
    pub last_resend_request_at: Option<i64>,
    pub resend_after_ms: i64,
    pub gap_after_ms: i64,
    /// Key rotation state (see schema3.sql).
    pub own_fpr: Option<String>,
    pub own_prev_fpr: Option<String>,
    pub own_rekey_seq: Option<u64>,
    pub partner_prev_fpr: Option<String>,
    pub partner_prev_cert: Option<String>,
    pub partner_prev_until: Option<u64>,
    pub partner_prev_retired: bool,
    /// Mail settings (JSON) for the email protocol.
    pub mail: Option<String>,
    /// The largest message this side sends (bytes as written, armored).
    pub max_message_bytes: u64,
    /// Passes on changes other syncs applied (a hub), loop-free.
    pub forward: bool,
    /// The sync that took over: this one collects nothing any more.
    pub replaced_by: Option<String>,
    /// Paused by the admin (ms since the epoch): nothing is collected,
    /// sent or applied until `sync resume`.
    pub paused_at: Option<i64>,
    /// Existing issues to send once the partner is known (a resync scope, JSON).
    pub initial_resync: Option<String>,
    /// The last resync's report (JSON).
    pub last_resync: Option<String>,
    /// Fields one side owns: field name -> `master` or `slave`.
    pub field_owners: std::collections::BTreeMap<String, String>,
    /// How many issues one cycle may create or change on the partner's
    /// side (0: no limit); see `engine::mass`.
    pub mass_threshold: u64,
    /// The admin allowed the next cycle over the threshold.
    pub mass_allowed: bool,
    /// What is held back for being over the threshold (JSON).
    pub mass_held: Option<String>,
    /// The tracker backend and its settings (JSON); `None`: embedded.
    pub tracker: Option<String>,
    /// The mapping file (TOML) of partner names to ours; see `engine::mapping`.
    pub mapping: Option<String>,
}

impl SyncRecord {
    /// The state as the admin sees it: `paused`, `expired` (a handshake
    /// nobody accepted in time), or the stored `handshake` / `active`.
    pub fn shown_state(&self, now: i64) -> &'static str {
        if self.paused_at.is_some() {
            "paused"
        } else if self.state == SyncState::Handshake && self.handshake_expires.is_some_and(|e| e < now) {
            "expired"
        } else {
            self.state.as_str()
        }
    }
}

impl std::fmt::Debug for SyncRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("state", &self.state)
            .field("project", &self.project)
            .field("partner_fpr", &self.partner_fpr)
            .field("pairing_secret", &self.pairing_secret.as_ref().map(|_| "<redacted>"))
            .field("out_seq", &self.out_seq)
            .field("in_seq", &self.in_seq)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, name, description, role, protocol, project, sync_user, exchange_dir, state, \
    partner_fpr, partner_cert, pairing_secret, pairing_used, handshake_expires, created_at, out_seq, \
    out_acked, in_seq, cursor, ack_due, last_received_at, last_received_seq, \
    last_resend_request_at, resend_after_ms, gap_after_ms";
const SELECT: &str = "id, name, description, role, protocol, project, sync_user, exchange_dir, state, \
    partner_fpr, partner_cert, pairing_secret, pairing_used, handshake_expires, created_at, out_seq, \
    out_acked, in_seq, cursor, ack_due, last_received_at, last_received_seq, \
    last_resend_request_at, resend_after_ms, gap_after_ms, own_fpr, own_prev_fpr, own_rekey_seq, \
    partner_prev_fpr, partner_prev_cert, partner_prev_until, partner_prev_retired, mail, max_message_bytes, \
    forward, replaced_by, tracker, paused_at, initial_resync, last_resync, field_owners, mass_threshold, mass_allowed, mass_held, mapping";

fn from_row(r: &Row<'_>) -> rusqlite::Result<SyncRecord> {
    let role: String = r.get(3)?;
    let state: String = r.get(8)?;
    Ok(SyncRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        role: if role == "master" { Role::Master } else { Role::Slave },
        protocol: r.get(4)?,
        project: r.get(5)?,
        sync_user: r.get(6)?,
        exchange_dir: r.get(7)?,
        state: if state == "active" { SyncState::Active } else { SyncState::Handshake },
        partner_fpr: r.get(9)?,
        partner_cert: r.get(10)?,
        pairing_secret: r.get(11)?,
        pairing_used: r.get(12)?,
        handshake_expires: r.get(13)?,
        created_at: r.get(14)?,
        out_seq: r.get::<_, i64>(15)? as u64,
        out_acked: r.get::<_, i64>(16)? as u64,
        in_seq: r.get::<_, i64>(17)? as u64,
        change_cursor: r.get(18)?,
        ack_due: r.get(19)?,
        last_received_at: r.get(20)?,
        last_received_seq: r.get::<_, Option<i64>>(21)?.map(|v| v as u64),
        last_resend_request_at: r.get(22)?,
        resend_after_ms: r.get(23)?,
        gap_after_ms: r.get(24)?,
        own_fpr: r.get(25)?,
        own_prev_fpr: r.get(26)?,
        own_rekey_seq: r.get::<_, Option<i64>>(27)?.map(|v| v as u64),
        partner_prev_fpr: r.get(28)?,
        partner_prev_cert: r.get(29)?,
        partner_prev_until: r.get::<_, Option<i64>>(30)?.map(|v| v as u64),
        partner_prev_retired: r.get(31)?,
        mail: r.get(32)?,
        max_message_bytes: r.get::<_, i64>(33)? as u64,
        forward: r.get(34)?,
        replaced_by: r.get(35)?,
        tracker: r.get(36)?,
        paused_at: r.get(37)?,
        initial_resync: r.get(38)?,
        last_resync: r.get(39)?,
        field_owners: r.get::<_, Option<String>>(40)?.and_then(|j| serde_json::from_str(&j).ok()).unwrap_or_default(),
        mass_threshold: r.get::<_, i64>(41)? as u64,
        mass_allowed: r.get(42)?,
        mass_held: r.get(43)?,
        mapping: r.get(44)?,
    })
}

pub fn insert(conn: &Connection, s: &SyncRecord) -> Result<()> {
    if get_by_name(conn, &s.name)?.is_some() {
        bail!("a sync named '{}' already exists in this home", s.name);
    }
    if get(conn, &s.id)?.is_some() {
        bail!("sync {} already exists in this home", s.id);
    }
    conn.execute(
        &format!("INSERT INTO sync ({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24,?25)"),
        params![
            s.id, s.name, s.description, s.role.as_str(), s.protocol, s.project, s.sync_user,
            s.exchange_dir, s.state.as_str(), s.partner_fpr, s.partner_cert, s.pairing_secret,
            s.pairing_used, s.handshake_expires, s.created_at, s.out_seq as i64, s.out_acked as i64,
            s.in_seq as i64, s.change_cursor, s.ack_due, s.last_received_at,
            s.last_received_seq.map(|v| v as i64), s.last_resend_request_at, s.resend_after_ms,
            s.gap_after_ms
        ],
    )?;
    conn.execute(
        "UPDATE sync SET own_fpr = ?2, mail = ?3, max_message_bytes = ?4, forward = ?5, tracker = ?6, mapping = ?7
         WHERE id = ?1",
        params![s.id, s.own_fpr, s.mail, s.max_message_bytes as i64, s.forward, s.tracker, s.mapping],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> Result<Option<SyncRecord>> {
    Ok(conn.query_row(&format!("SELECT {SELECT} FROM sync WHERE id = ?1"), [id], from_row).optional()?)
}

/// Sets (or clears) the existing issues to send once the partner is known.
pub fn set_initial_resync(conn: &Connection, id: &str, scope: Option<&str>) -> Result<()> {
    conn.execute("UPDATE sync SET initial_resync = ?2 WHERE id = ?1", params![id, scope])?;
    Ok(())
}

/// Sets which side owns which fields.
pub fn set_field_owners(
    conn: &Connection,
    id: &str,
    owners: &std::collections::BTreeMap<String, String>,
) -> Result<()> {
    conn.execute("UPDATE sync SET field_owners = ?2 WHERE id = ?1", params![id, serde_json::to_string(owners)?])?;
    Ok(())
}

/// Sets (or clears) the sync's mapping file.
pub fn set_mapping(conn: &Connection, id: &str, mapping: Option<&str>) -> Result<()> {
    conn.execute("UPDATE sync SET mapping = ?2 WHERE id = ?1", params![id, mapping])?;
    Ok(())
}

/// Keeps the last resync's report.
pub fn set_last_resync(conn: &Connection, id: &str, report: &str) -> Result<()> {
    conn.execute("UPDATE sync SET last_resync = ?2 WHERE id = ?1", params![id, report])?;
    Ok(())
}

pub fn get_by_name(conn: &Connection, name: &str) -> Result<Option<SyncRecord>> {
    Ok(conn.query_row(&format!("SELECT {SELECT} FROM sync WHERE name = ?1"), [name], from_row).optional()?)
}

/// Finds a sync by name or id, with an error that lists what exists.
pub fn find(conn: &Connection, name_or_id: &str) -> Result<SyncRecord> {
    if let Some(s) = get_by_name(conn, name_or_id)? {
        return Ok(s);
    }
    if let Some(s) = get(conn, name_or_id)? {
        return Ok(s);
    }
    let names: Vec<String> = list(conn)?.into_iter().map(|s| s.name).collect();
    Err(anyhow!(
        "no sync named '{name_or_id}' in this home (syncs: {})",
        if names.is_empty() { "none".to_string() } else { names.join(", ") }
    ))
}

/// Sync `name`, or where none is named the home's only sync.
pub fn find_or_only(conn: &Connection, name: Option<&str>) -> Result<SyncRecord> {
    if let Some(name) = name {
        return find(conn, name);
    }
    let mut all = list(conn)?;
    match all.len() {
        0 => Err(anyhow!("this home has no sync yet (`postern sync create` or `sync accept` makes one)")),
        1 => Ok(all.remove(0)),
        n => {
            let names: Vec<String> = all.into_iter().map(|s| s.name).collect();
            Err(anyhow!("this home has {n} syncs ({}): name one", names.join(", ")))
        }
    }
}

pub fn list(conn: &Connection) -> Result<Vec<SyncRecord>> {
    let mut stmt = conn.prepare(&format!("SELECT {SELECT} FROM sync ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn set_max_message_bytes(conn: &Connection, id: &str, n: u64) -> Result<()> {
    conn.execute("UPDATE sync SET max_message_bytes = ?2 WHERE id = ?1", params![id, n as i64])?;
    Ok(())
}

/// Records a verified message from the partner: makes the sync active.
pub(super) fn record_contact(conn: &Connection, id: &str, seq: Option<u64>, at: i64) -> Result<()> {
    conn.execute(
        "UPDATE sync SET state = 'active', last_received_at = ?2,
                last_received_seq = COALESCE(?3, last_received_seq) WHERE id = ?1",
        params![id, at, seq.map(|v| v as i64)],
    )?;
    Ok(())
}

pub(super) fn set_in_seq(conn: &Connection, id: &str, seq: u64) -> Result<()> {
    conn.execute("UPDATE sync SET in_seq = ?2, ack_due = 1 WHERE id = ?1", params![id, seq as i64])?;
    Ok(())
}

pub(super) fn set_ack_due(conn: &Connection, id: &str, due: bool) -> Result<()> {
    conn.execute("UPDATE sync SET ack_due = ?2 WHERE id = ?1", params![id, due])?;
    Ok(())
}

pub fn set_cursor(conn: &Connection, id: &str, cursor: &str) -> Result<()> {
    conn.execute("UPDATE sync SET cursor = ?2 WHERE id = ?1", params![id, cursor])?;
    Ok(())
}

pub fn set_resend_request_at(conn: &Connection, id: &str, at: i64) -> Result<()> {
    conn.execute("UPDATE sync SET last_resend_request_at = ?2 WHERE id = ?1", params![id, at])?;
    Ok(())
}

/// Pins the partner's certificate and consumes the pairing secret.
pub fn pin_partner(conn: &Connection, id: &str, fpr: &str, cert: &str) -> Result<()> {
    conn.execute(
        "UPDATE sync SET partner_fpr = ?2, partner_cert = ?3, pairing_used = 1, pairing_secret = NULL
         WHERE id = ?1",
        params![id, fpr, cert],
    )?;
    Ok(())
}

pub fn set_timing(conn: &Connection, id: &str, resend_after_ms: i64, gap_after_ms: i64) -> Result<()> {
    conn.execute(
        "UPDATE sync SET resend_after_ms = ?2, gap_after_ms = ?3 WHERE id = ?1",
        params![id, resend_after_ms, gap_after_ms],
    )?;
    Ok(())
}

/// Queued rekey: our messages up to `seq` are signed by `prev_fpr`, later
/// ones by `new_fpr`.
pub fn set_own_rekey(conn: &Connection, id: &str, prev_fpr: &str, new_fpr: &str, seq: u64) -> Result<()> {
    conn.execute(
        "UPDATE sync SET own_prev_fpr = ?2, own_fpr = ?3, own_rekey_seq = ?4 WHERE id = ?1",
        params![id, prev_fpr, new_fpr, seq as i64],
    )?;
    Ok(())
}

/// Pins the partner's new certificate from its rekey message `seq`.
pub fn rekey_partner(conn: &Connection, s: &SyncRecord, fpr: &str, cert: &str, seq: u64) -> Result<()> {
    conn.execute(
        "UPDATE sync SET partner_prev_fpr = partner_fpr, partner_prev_cert = partner_cert,
                partner_prev_until = ?2, partner_prev_retired = 0, partner_fpr = ?3, partner_cert = ?4
         WHERE id = ?1",
        params![s.id, seq as i64, fpr, cert],
    )?;
    Ok(())
}

/// The partner has started signing with its new key.
pub fn retire_partner_prev(conn: &Connection, id: &str) -> Result<()> {
    conn.execute("UPDATE sync SET partner_prev_retired = 1 WHERE id = ?1 AND partner_prev_retired = 0", [id])?;
    Ok(())
}

/// Records the own key for syncs made before migration 3.
pub fn adopt_own_fpr(conn: &Connection, fpr: &str) -> Result<()> {
    conn.execute("UPDATE sync SET own_fpr = ?1 WHERE own_fpr IS NULL", [fpr])?;
    Ok(())
}

pub fn set_mail(conn: &Connection, id: &str, mail: &str) -> Result<()> {
    conn.execute("UPDATE sync SET mail = ?2 WHERE id = ?1", params![id, mail])?;
    Ok(())
}

/// Where reading a sync's mailbox stands (`transport::mail::position`):
/// its UIDVALIDITY and the highest UID dealt with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MailboxPosition {
    pub mailbox: String,
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// The stored IMAP position of an email sync.
pub fn mailbox_position(conn: &Connection, id: &str) -> Result<Option<MailboxPosition>> {
    Ok(conn
        .query_row("SELECT mailbox, uidvalidity, last_uid FROM imap_position WHERE sync_id = ?1", [id], |r| {
            Ok(MailboxPosition {
                mailbox: r.get(0)?,
                uidvalidity: r.get::<_, i64>(1)? as u32,
                last_uid: r.get::<_, i64>(2)? as u32,
            })
        })
        .optional()?)
}

pub fn set_mailbox_position(conn: &Connection, id: &str, p: &MailboxPosition) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO imap_position (sync_id, mailbox, uidvalidity, last_uid) VALUES (?1, ?2, ?3, ?4)",
        params![id, p.mailbox, p.uidvalidity as i64, p.last_uid as i64],
    )?;
    Ok(())
}

pub fn forget_mailbox_position(conn: &Connection, id: &str) -> Result<()> {
    conn.execute("DELETE FROM imap_position WHERE sync_id = ?1", [id])?;
    Ok(())
}

pub fn set_exchange(conn: &Connection, id: &str, dir: &str) -> Result<()> {
    conn.execute("UPDATE sync SET exchange_dir = ?2 WHERE id = ?1", params![id, dir])?;
    Ok(())
}

pub fn set_forward(conn: &Connection, id: &str, forward: bool) -> Result<()> {
    conn.execute("UPDATE sync SET forward = ?2 WHERE id = ?1", params![id, forward])?;
    Ok(())
}

pub fn set_tracker(conn: &Connection, id: &str, tracker: Option<&str>) -> Result<()> {
    conn.execute("UPDATE sync SET tracker = ?2 WHERE id = ?1", params![id, tracker])?;
    Ok(())
}
