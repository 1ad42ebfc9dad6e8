//! Several syncs of one home and one partner: refusing a second sync
//! between the same projects, and handing a sync's place to the one that
//! replaces it (a migration to another protocol or machine).

use anyhow::{bail, Result};
use rusqlite::{params, Connection};

use super::syncs::{find, list, SyncRecord};

/// Another sync of this home that already pairs `project` with the
/// partner key `fpr` and has not been replaced (two such syncs would send
/// every change twice).
pub fn same_pairing(conn: &Connection, project: &str, fpr: &str, except: &str) -> Result<Option<SyncRecord>> {
    Ok(list(conn)?.into_iter().find(|s| {
        s.id != except
            && s.project == project
            && s.replaced_by.is_none()
            && (s.partner_fpr.as_deref() == Some(fpr) || s.partner_prev_fpr.as_deref() == Some(fpr))
    }))
}

/// Hands `old`'s place to `new`: `new` collects from where `old` stood and
/// keeps its pairings; `old` collects nothing from now on (it still reads
/// and acknowledges what its partner sent, until that side switches too).
pub fn replace(conn: &Connection, old: &SyncRecord, new_id: &str) -> Result<()> {
    conn.execute("UPDATE sync SET replaced_by = ?2 WHERE id = ?1", params![old.id, new_id])?;
    conn.execute("UPDATE sync SET cursor = ?2 WHERE id = ?1", params![new_id, old.change_cursor])?;
    inherit_links(conn, &old.id, new_id)
}

/// Copies the pairings `old` has and `new` lacks (a replaced sync can still
/// pair what its partner sent before switching).
pub fn inherit_links(conn: &Connection, old: &str, new: &str) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO link (sync_id, local_key, remote_key, first_sync, last_outgoing_change,
                last_change_seen, last_incoming_change, ignored)
         SELECT ?2, local_key, remote_key, first_sync, last_outgoing_change, last_change_seen,
                last_incoming_change, ignored
         FROM link WHERE sync_id = ?1",
        params![old, new],
    )?;
    conn.execute(
        "UPDATE link SET remote_key =
                (SELECT o.remote_key FROM link o WHERE o.sync_id = ?1 AND o.local_key = link.local_key)
         WHERE sync_id = ?2 AND remote_key IS NULL",
        params![old, new],
    )?;
    for table in ["comment_link", "attachment_link", "worklog_link"] {
        conn.execute(
            &format!(
                "INSERT OR IGNORE INTO {table} (sync_id, local_key, local_id, remote_id)
                 SELECT ?2, local_key, local_id, remote_id FROM {table} WHERE sync_id = ?1"
            ),
            params![old, new],
        )?;
    }
    Ok(())
}

/// The sync named `name` that a new sync of `project` is to take over
/// from, checked: same project, not replaced already, nothing awaiting
/// acknowledgement (the two must never both have changes on their way).
pub fn replaceable(conn: &Connection, name: &str, project: &str) -> Result<SyncRecord> {
    let old = find(conn, name)?;
    if old.project != project {
        bail!(
            "sync '{}' synchronizes project {}, not {project}: a sync can only replace one of the same project",
            old.name,
            old.project
        );
    }
    if old.replaced_by.is_some() {
        bail!("sync '{}' was replaced already", old.name);
    }
    let waiting = old.out_seq.saturating_sub(old.out_acked);
    if waiting > 0 {
        bail!(
            "sync '{}' still has {waiting} message{} awaiting acknowledgement: let the partner acknowledge {} \
             (`postern status`), then replace it",
            old.name,
            if waiting == 1 { "" } else { "s" },
            if waiting == 1 { "it" } else { "them" }
        );
    }
    Ok(old)
}

/// The words for refusing a second sync between the same two projects.
pub fn same_pairing_error(other: &SyncRecord, project: &str) -> String {
    format!(
        "sync '{}' already pairs project {project} with this partner's key: a second sync between the same \
         projects would send every change twice. To move to a new sync (another protocol, another machine), \
         both sides replace the old one: the master creates the new sync with --replaces {} (its name for the \
         old sync) and the slave accepts it with --replaces (its own name for it)",
        other.name, other.name
    )
}

/// A slave's `--replaces` must match what the master's handshake says it
/// replaced (`theirs`, a sync id): a replacement made on one side only
/// would leave the other side's changes on a sync nobody reads.
pub fn agreed(conn: &Connection, theirs: Option<&str>, ours: Option<&str>) -> Result<()> {
    let here = |id: &str| list(conn).map(|l| l.into_iter().find(|s| s.id == id));
    match (theirs, ours) {
        (None, None) => Ok(()),
        (None, Some(name)) => bail!(
            "the partner did not make this sync to replace another (its handshake file replaces nothing), so \
             this side cannot replace '{name}': a replacement is made on both sides. Ask the partner's admin to \
             create the sync with --replaces (their name for the old sync), or accept without --replaces"
        ),
        (Some(id), None) => match here(id)? {
            Some(old) if old.replaced_by.is_none() => bail!(
                "the partner made this sync to replace sync '{}' ({id}): accept it with --replaces {} so that \
                 both sides move to it",
                old.name,
                old.name
            ),
            _ => Ok(()),
        },
        (Some(id), Some(name)) => {
            let old = find(conn, name)?;
            if old.id != id {
                bail!(
                    "the partner made this sync to replace the sync {id}, not '{name}' ({}): give --replaces \
                     with the name this home has for {id}{}",
                    old.id,
                    here(id)?.map(|s| format!(" ('{}')", s.name)).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}
