//! Messages and changes per sync and hour: the console's chart of the last
//! day and the counters `/metrics` shows. Counted in the transaction that
//! enqueues or applies a message, so a message counts exactly once.

use anyhow::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

const HOUR_MS: i64 = 3_600_000;

/// One direction of traffic.
#[derive(Debug, Clone, Copy)]
pub enum Way {
    /// Numbered messages we enqueued for the partner.
    Out,
    /// The partner's numbered messages we applied.
    In,
}

/// Counts one message of `changes` changes.
pub fn count(conn: &Connection, sync_id: &str, way: Way, changes: usize, now: i64) -> Result<()> {
    let sql = match way {
        Way::Out => {
            "INSERT INTO activity (sync_id, hour, messages_out, changes_out) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (sync_id, hour) DO UPDATE SET messages_out = messages_out + 1,
             changes_out = changes_out + ?3"
        }
        Way::In => {
            "INSERT INTO activity (sync_id, hour, messages_in, changes_in) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (sync_id, hour) DO UPDATE SET messages_in = messages_in + 1,
             changes_in = changes_in + ?3"
        }
    };
    conn.prepare_cached(sql)?.execute(params![sync_id, now.div_euclid(HOUR_MS), changes as i64])?;
    Ok(())
}

/// Traffic of one hour (or totals, with `hour` 0).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    /// Start of the hour, ms since the epoch.
    pub hour: i64,
    pub messages_out: u64,
    pub changes_out: u64,
    pub messages_in: u64,
    pub changes_in: u64,
}

/// The last `hours` hours up to `now`, oldest first, one entry per hour
/// (zeros where nothing happened).
pub fn last_hours(conn: &Connection, sync_id: &str, hours: i64, now: i64) -> Result<Vec<Traffic>> {
    let last = now.div_euclid(HOUR_MS);
    let first = last - hours + 1;
    let mut out: Vec<Traffic> = (first..=last).map(|h| Traffic { hour: h * HOUR_MS, ..Traffic::default() }).collect();
    let mut stmt = conn.prepare_cached(
        "SELECT hour, messages_out, changes_out, messages_in, changes_in FROM activity
         WHERE sync_id = ?1 AND hour BETWEEN ?2 AND ?3",
    )?;
    let rows = stmt.query_map(params![sync_id, first, last], |r| {
        Ok((r.get::<_, i64>(0)?, [r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?]))
    })?;
    for row in rows {
        let (h, [mo, co, mi, ci]) = row?;
        let t = &mut out[(h - first) as usize];
        (t.messages_out, t.changes_out, t.messages_in, t.changes_in) = (mo as u64, co as u64, mi as u64, ci as u64);
    }
    Ok(out)
}

/// Everything counted for the sync since it began (or since the counting
/// did: migration 11).
pub fn totals(conn: &Connection, sync_id: &str) -> Result<Traffic> {
    Ok(conn.query_row(
        "SELECT COALESCE(SUM(messages_out), 0), COALESCE(SUM(changes_out), 0), COALESCE(SUM(messages_in), 0),
         COALESCE(SUM(changes_in), 0) FROM activity WHERE sync_id = ?1",
        [sync_id],
        |r| {
            Ok(Traffic {
                hour: 0,
                messages_out: r.get::<_, i64>(0)? as u64,
                changes_out: r.get::<_, i64>(1)? as u64,
                messages_in: r.get::<_, i64>(2)? as u64,
                changes_in: r.get::<_, i64>(3)? as u64,
            })
        },
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_hour_and_in_total() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        let now = 100 * HOUR_MS + 5;
        count(&conn, "s", Way::Out, 3, now).unwrap();
        count(&conn, "s", Way::Out, 2, now).unwrap();
        count(&conn, "s", Way::In, 7, now - HOUR_MS).unwrap();
        count(&conn, "other", Way::In, 1, now).unwrap();
        let hours = last_hours(&conn, "s", 24, now).unwrap();
        assert_eq!(hours.len(), 24);
        assert_eq!(hours[23], Traffic { hour: 100 * HOUR_MS, messages_out: 2, changes_out: 5, ..Default::default() });
        assert_eq!(hours[22], Traffic { hour: 99 * HOUR_MS, messages_in: 1, changes_in: 7, ..Default::default() });
        assert!(hours[..22].iter().all(|t| t.messages_in + t.messages_out == 0));
        let t = totals(&conn, "s").unwrap();
        assert_eq!((t.messages_out, t.changes_out, t.messages_in, t.changes_in), (2, 5, 1, 7));
    }
}
