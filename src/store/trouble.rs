//! What keeps a sync from working: the last error of each kind of work,
//! since when it fails, and how often it was tried. `status` shows it.

use anyhow::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::now_ms;

/// One kind of failing work of a sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Trouble {
    /// `receive` (the folder or mailbox), `tracker` (reading or writing
    /// the tracker), `send`, `refused` (the partner refused this side's
    /// accept), `panic` (a cycle crashed) or `cycle` (anything else that
    /// stopped a cycle). `throttled` is no failure.
    pub what: String,
    pub error: String,
    /// When it began failing (ms since the epoch).
    pub since: i64,
    /// The latest failure.
    pub last_at: i64,
    pub tries: u64,
}

impl Trouble {
    /// The failing work in a word or two, as `status` prints it.
    pub fn label(&self) -> &'static str {
        match self.what.as_str() {
            "receive" => "receiving",
            "send" => "sending",
            "tracker" => "tracker",
            "refused" => "refused",
            "panic" => "crashed",
            "throttled" => "throttled",
            _ => "cycle",
        }
    }

    /// What fails, for a sentence: "Receiving", "The tracker", …
    pub fn subject(&self) -> &'static str {
        match self.what.as_str() {
            "receive" => "Receiving (the folder or mailbox)",
            "send" => "Sending",
            "tracker" => "Reading or writing the tracker",
            "refused" => "The handshake (the partner refused this side's accept)",
            "panic" => "A cycle of this sync (it crashed)",
            _ => "A cycle of this sync",
        }
    }
}

/// Records the outcome of `what` for sync `id`: an error starts or
/// continues a failing streak; success ends it.
pub fn record(conn: &Connection, id: &str, what: &str, error: Option<&anyhow::Error>) -> Result<()> {
    match error {
        None => {
            conn.execute("DELETE FROM sync_trouble WHERE sync_id = ?1 AND what = ?2", params![id, what])?;
        }
        Some(e) => {
            let now = now_ms();
            conn.execute(
                "INSERT INTO sync_trouble (sync_id, what, error, since, last_at) VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (sync_id, what) DO UPDATE SET error = ?3, last_at = ?4, tries = tries + 1",
                params![id, what, format!("{e:#}"), now],
            )?;
        }
    }
    Ok(())
}

/// The failing work of sync `id`, oldest streak first.
pub fn of(conn: &Connection, id: &str) -> Result<Vec<Trouble>> {
    let mut st = conn.prepare(
        "SELECT what, error, since, last_at, tries FROM sync_trouble WHERE sync_id = ?1 ORDER BY since, what",
    )?;
    let rows = st.query_map([id], |r| {
        Ok(Trouble { what: r.get(0)?, error: r.get(1)?, since: r.get(2)?, last_at: r.get(3)?, tries: r.get(4)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Since when sync `id` fails at `what`, if it does.
pub fn since(conn: &Connection, id: &str, what: &str) -> Result<Option<i64>> {
    Ok(conn
        .query_row("SELECT since FROM sync_trouble WHERE sync_id = ?1 AND what = ?2", params![id, what], |r| r.get(0))
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_streak_keeps_its_start_and_ends_with_a_success() {
        let dir = tempfile::tempdir().unwrap();
        let conn = crate::store::open(&dir.path().join("t.db")).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
        record(&conn, "s", "send", Some(&anyhow::anyhow!("relay down"))).unwrap();
        let first = of(&conn, "s").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        record(&conn, "s", "send", Some(&anyhow::anyhow!("relay still down"))).unwrap();
        let t = of(&conn, "s").unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].since, t[0].tries, t[0].error.as_str()), (first[0].since, 2, "relay still down"));
        assert!(t[0].last_at > t[0].since);
        record(&conn, "s", "cycle", Some(&anyhow::anyhow!("share not mounted"))).unwrap();
        record(&conn, "s", "send", None).unwrap();
        let t = of(&conn, "s").unwrap();
        assert_eq!(t.iter().map(|t| t.what.as_str()).collect::<Vec<_>>(), ["cycle"]);
        assert_eq!(since(&conn, "s", "send").unwrap(), None);
    }
}
