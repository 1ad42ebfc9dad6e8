//! The read model: what `status`, the console's pages and `/metrics`
//! show of each sync (role, state, partner, sequence numbers, queues,
//! what is failing and what waits), read from the store in one place.
//! Never holds a secret: settings come redacted.

use anyhow::Result;
use serde::Serialize;

use crate::store::{now_ms, outbox, problems, syncs};

#[derive(Debug, Serialize)]
pub struct SyncStatus {
    pub name: String,
    pub id: String,
    pub role: &'static str,
    pub state: &'static str,
    /// When the admin paused the sync (ms since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paused_since: Option<i64>,
    /// The last resync's report (also of the existing issues sent at the start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_resync: Option<crate::engine::resync::Report>,
    /// What is held back for being over the mass-change threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mass_change_held: Option<crate::engine::mass::Held>,
    /// Fields one side owns: field -> `master` or `slave`.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub field_owners: std::collections::BTreeMap<String, String>,
    /// What the sync's mapping file maps (absent: no mapping).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
    /// How many issues one cycle may create or change (0: no limit).
    pub mass_change_threshold: u64,
    /// When an open handshake expires or expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_expires: Option<i64>,
    pub protocol: String,
    pub project: String,
    pub exchange: String,
    pub own_fingerprint: Option<String>,
    pub partner_fingerprint: Option<String>,
    pub last_received_seq: Option<u64>,
    pub last_received_at: Option<i64>,
    pub outgoing_seq: u64,
    pub incoming_seq: u64,
    pub awaiting_ack: u64,
    pub held_for_gap: u64,
    /// Pieces received of a large change still arriving in parts.
    pub parts_pending: u64,
    /// The largest message this side sends (agreed with the partner).
    pub max_message_bytes: u64,
    /// The largest attachment this side sends or takes.
    pub max_attachment_bytes: u64,
    /// Large attachments on their way, in chunks.
    pub transfers: Vec<crate::store::transfers::Progress>,
    /// Attachments over a limit that did not cross (they block nothing).
    pub attachments_not_crossed: Vec<crate::store::skipped::Skipped>,
    pub issues_with_errors: u64,
    /// Of those, the issues whose later changes wait behind the error (the
    /// others hold a value this tracker does not, and block nothing).
    pub issues_blocked: u64,
    /// Files that failed the checks.
    pub quarantined: u64,
    /// Genuine messages set aside because they came before the partner's
    /// accept (sent again after it; not a fault).
    pub early: u64,
    /// Open conflicts (`postern conflicts list`).
    pub conflicts: u64,
    /// Issues that differed from the partner at the last verify that
    /// compared them (`postern sync verify NAME --last`).
    pub diverged: Vec<Diverged>,
    /// The last finished verify, and the schedule.
    pub verify: VerifyStatus,
    /// Mail settings of an email sync; passwords shown only by source.
    pub mail: Option<serde_json::Value>,
    /// How far the IMAP mailbox has been read (email syncs).
    pub imap_position: Option<crate::transport::MailboxPosition>,
    /// Whether the sync passes on changes other syncs applied.
    pub forward: bool,
    /// The name of the sync that took over from this one.
    pub replaced_by: Option<String>,
    /// Work that keeps failing (`receive`, `tracker`, `send`, `refused`,
    /// `panic`, `cycle`: see [`crate::store::trouble::Trouble`]), with the
    /// last error and since when.
    pub failing: Vec<crate::store::trouble::Trouble>,
    /// Messages the partner does not acknowledge, or a gap in its messages
    /// that asking again does not fill (see [`crate::engine::stall`]).
    pub stalled: Vec<crate::engine::stall::Stall>,
    /// The tracker asked to slow down lately (waited out; not a failure).
    pub throttled: Option<crate::store::trouble::Trouble>,
    /// The tracker this side syncs (`kind`, and a remote one's settings;
    /// an API key shown only by source).
    pub tracker: serde_json::Value,
}

/// One issue found to differ from the partner.
#[derive(Debug, Serialize)]
pub struct Diverged {
    pub issue: String,
    pub what: String,
    pub since: i64,
}

/// The last verify and when one runs on its own.
#[derive(Debug, Serialize)]
pub struct VerifyStatus {
    pub last_finished_at: Option<i64>,
    pub last_pairs: Option<u64>,
    /// Every this many ms (0: only when asked).
    pub every_ms: i64,
    /// `report` or `repair`.
    pub policy: String,
}

fn verify_status(conn: &rusqlite::Connection, id: &str) -> Result<VerifyStatus> {
    let last = crate::store::verify::last(conn, id)?.and_then(|r| r.report);
    let setting = crate::store::verify::setting(conn, id)?;
    Ok(VerifyStatus {
        last_finished_at: last.as_ref().map(|r| r.finished_at),
        last_pairs: last.map(|r| r.pairs),
        every_ms: setting.every_ms,
        policy: setting.policy,
    })
}

/// "45s", "12m", "3h 5m", "2d 4h".
pub fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86400, s % 86400 / 3600),
    }
}

/// Tracker settings for display: a literal API key, token or password
/// becomes "<redacted>".
fn redacted_tracker(json: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    for path in ["/api_key", "/auth/secret", "/auth/token", "/auth/key", "/webhook_secret"] {
        if let Some(key) = v.pointer_mut(path).and_then(|k| k.as_object_mut()).filter(|k| k.contains_key("value")) {
            key.insert("value".into(), "<redacted>".into());
        }
    }
    v
}

/// Mail settings for display: a literal password becomes "<redacted>".
fn redacted_mail(json: &str) -> Option<serde_json::Value> {
    let mut v: serde_json::Value = serde_json::from_str(json).ok()?;
    for account in ["imap", "smtp"] {
        if let Some(pw) = v[account]["password"].as_object_mut() {
            if pw.contains_key("value") {
                pw.insert("value".into(), "<redacted>".into());
            }
        }
    }
    Some(v)
}

pub fn collect(conn: &rusqlite::Connection) -> Result<Vec<SyncStatus>> {
    let all = syncs::list(conn)?;
    let name_of = |id: &str| all.iter().find(|s| s.id == id).map_or_else(|| id.to_string(), |s| s.name.clone());
    all.iter()
        .cloned()
        .map(|s| {
            let state = s.shown_state(now_ms());
            let errors = problems::errors(conn, &s.id)?;
            Ok(SyncStatus {
                stalled: crate::engine::stall::of(conn, &s, now_ms())?,
                failing: crate::store::trouble::of(conn, &s.id)?
                    .into_iter()
                    .filter(|t| t.what != "throttled")
                    .collect(),
                throttled: crate::store::trouble::of(conn, &s.id)?.into_iter().find(|t| t.what == "throttled"),
                tracker: s.tracker.as_deref().map_or_else(|| serde_json::json!({"kind": "embedded"}), redacted_tracker),
                forward: s.forward,
                replaced_by: s.replaced_by.as_deref().map(name_of),
                awaiting_ack: outbox::pending(conn, &s.id)?,
                held_for_gap: outbox::held_summary(conn, &s.id)?.0,
                parts_pending: crate::engine::parts::pending(conn, &s.id)?,
                max_message_bytes: s.max_message_bytes,
                max_attachment_bytes: crate::store::transfers::max_bytes(conn, &s.id)?,
                transfers: crate::store::transfers::progress(conn, &s.id)?,
                attachments_not_crossed: crate::store::skipped::list(conn, &s.id)?,
                issues_with_errors: errors.len() as u64,
                issues_blocked: errors.iter().filter(|e| e.blocks).count() as u64,
                quarantined: problems::quarantined(conn, &s.id)?,
                early: problems::early(conn, &s.id)?,
                conflicts: crate::store::conflicts::open_count(conn, &s.id)?,
                diverged: crate::store::verify::divergent(conn, &s.id)?
                    .into_iter()
                    .map(|(issue, what, since)| Diverged { issue, what, since })
                    .collect(),
                verify: verify_status(conn, &s.id)?,
                mail: s.mail.as_deref().and_then(redacted_mail),
                imap_position: syncs::mailbox_position(conn, &s.id)?,
                name: s.name,
                id: s.id,
                role: s.role.as_str(),
                state,
                paused_since: s.paused_at,
                mass_change_held: s.mass_held.as_deref().and_then(|h| serde_json::from_str(h).ok()),
                mass_change_threshold: s.mass_threshold,
                field_owners: s.field_owners.clone(),
                mapping: s.mapping.as_deref().map(|t| match crate::engine::mapping::Mapping::parse(t) {
                    Ok(m) => m.tables(),
                    Err(e) => format!("damaged: {e}"),
                }),
                last_resync: s.last_resync.as_deref().and_then(|r| serde_json::from_str(r).ok()),
                handshake_expires: s.handshake_expires.filter(|_| s.state == syncs::SyncState::Handshake),
                protocol: s.protocol,
                project: s.project,
                exchange: s.exchange_dir,
                own_fingerprint: s.own_fpr,
                partner_fingerprint: s.partner_fpr,
                last_received_seq: s.last_received_seq,
                last_received_at: s.last_received_at,
                outgoing_seq: s.out_seq,
                incoming_seq: s.in_seq,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn literal_mail_passwords_are_redacted() {
        let json = r#"{"imap":{"host":"h","port":993,"security":"tls","username":"u","password":{"value":"hunter2"}},
            "mailbox":"INBOX","smtp":{"host":"h","port":587,"security":"starttls","username":"u","password":{"env":"PW"}},
            "address":"a@x","partner_address":null,"done_folder":null,"quarantine_folder":"q"}"#;
        let v = super::redacted_mail(json).unwrap();
        assert!(!v.to_string().contains("hunter2"));
        assert_eq!(v["imap"]["password"]["value"], "<redacted>");
        assert_eq!(v["smtp"]["password"]["env"], "PW", "a variable's name is not a secret");
    }
}
