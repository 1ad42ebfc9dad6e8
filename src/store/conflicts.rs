//! Conflicts: edits both sides made to the same field of an issue before
//! hearing of each other, with both values, both times and which won.

use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub id: i64,
    pub local_key: String,
    pub remote_key: String,
    pub field: String,
    pub local_value: String,
    pub partner_value: String,
    pub local_at: i64,
    pub partner_at: i64,
    /// `here`, `partner` or `merged`.
    pub winner: String,
    /// `latest`, or the side that owns the field.
    pub policy: String,
    pub at: i64,
    /// `open`, `dismissed` or `reapplied`.
    pub state: String,
}

const COLUMNS: &str = "id, local_key, remote_key, field, local_value, partner_value, local_at, partner_at, \
                       winner, policy, at, state";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Conflict> {
    Ok(Conflict {
        id: r.get(0)?,
        local_key: r.get(1)?,
        remote_key: r.get(2)?,
        field: r.get(3)?,
        local_value: r.get(4)?,
        partner_value: r.get(5)?,
        local_at: r.get(6)?,
        partner_at: r.get(7)?,
        winner: r.get(8)?,
        policy: r.get(9)?,
        at: r.get(10)?,
        state: r.get(11)?,
    })
}

/// Records a conflict (`c.id` and `c.state` are ignored).
pub fn record(conn: &Connection, sync_id: &str, c: &Conflict) -> Result<()> {
    conn.execute(
        "INSERT INTO conflict (sync_id, local_key, remote_key, field, local_value, partner_value, local_at,
                               partner_at, winner, policy, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            sync_id,
            c.local_key,
            c.remote_key,
            c.field,
            c.local_value,
            c.partner_value,
            c.local_at,
            c.partner_at,
            c.winner,
            c.policy,
            c.at
        ],
    )?;
    Ok(())
}

/// The sync's conflicts, oldest first; only open ones unless `all`.
pub fn list(conn: &Connection, sync_id: &str, all: bool) -> Result<Vec<Conflict>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM conflict WHERE sync_id = ?1 AND (?2 OR state = 'open') ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![sync_id, all], from_row)?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

pub fn get(conn: &Connection, sync_id: &str, id: i64) -> Result<Option<Conflict>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM conflict WHERE sync_id = ?1 AND id = ?2"),
            params![sync_id, id],
            from_row,
        )
        .optional()?)
}

pub fn set_state(conn: &Connection, id: i64, state: &str) -> Result<()> {
    conn.execute("UPDATE conflict SET state = ?2 WHERE id = ?1", params![id, state])?;
    Ok(())
}

/// Open conflicts of a sync.
pub fn open_count(conn: &Connection, sync_id: &str) -> Result<u64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM conflict WHERE sync_id = ?1 AND state = 'open'", [sync_id], |r| {
        r.get::<_, i64>(0)
    })? as u64)
}
