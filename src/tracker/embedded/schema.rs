//! The embedded tracker's own migrations, apart from postern's state: its
//! tables share the home's database file, its versions are its own (row
//! `embedded` of `tracker_schema`).

use anyhow::{Context, Result};
use rusqlite::{Connection, OptionalExtension};

const MIGRATIONS: &[&str] =
    &[include_str!("embedded_schema.sql"), include_str!("embedded_schema2.sql"), include_str!("embedded_schema3.sql")];

/// Brings the embedded tracker's tables up to date.
pub fn migrate(conn: &Connection) -> Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS tracker_schema (name TEXT PRIMARY KEY, version INTEGER NOT NULL)")?;
    let version: i64 = conn
        .query_row("SELECT version FROM tracker_schema WHERE name = 'embedded'", [], |r| r.get(0))
        .optional()?
        .unwrap_or(0);
    if version as usize > MIGRATIONS.len() {
        anyhow::bail!("the embedded tracker's tables are of a newer postern (version {version}); upgrade postern");
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql).with_context(|| format!("embedded tracker migration {}", i + 1))?;
        if i == 0 {
            // Homes from before migration 7 of the state had no `via`.
            let has_via = tx.prepare("SELECT 1 FROM pragma_table_info('t_change') WHERE name = 'via'")?.exists([])?;
            if !has_via {
                tx.execute_batch("ALTER TABLE t_change ADD COLUMN via TEXT")?;
            }
        }
        tx.execute(
            "INSERT INTO tracker_schema (name, version) VALUES ('embedded', ?1)
             ON CONFLICT (name) DO UPDATE SET version = ?1",
            [(i + 1) as i64],
        )?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    #[test]
    fn a_home_made_before_the_trackers_own_migrations_is_adopted() {
        let dir = tempfile::tempdir().unwrap();
        let conn = rusqlite::Connection::open(dir.path().join("old.db")).unwrap();
        // The shape an older home has: no attachments, no `via`.
        conn.execute_batch(
            "CREATE TABLE t_project (key TEXT PRIMARY KEY, name TEXT NOT NULL, next_number INTEGER NOT NULL DEFAULT 1, statuses TEXT);
             CREATE TABLE t_change (id INTEGER PRIMARY KEY AUTOINCREMENT, project TEXT NOT NULL, issue_key TEXT NOT NULL,
                 at INTEGER NOT NULL, actor TEXT NOT NULL, origin TEXT, kind TEXT NOT NULL, data TEXT NOT NULL);
             INSERT INTO t_project (key, name) VALUES ('OLD', 'kept');",
        )
        .unwrap();
        super::migrate(&conn).unwrap();
        super::migrate(&conn).unwrap();
        let kept: String = conn.query_row("SELECT name FROM t_project WHERE key = 'OLD'", [], |r| r.get(0)).unwrap();
        assert_eq!(kept, "kept");
        conn.execute("INSERT INTO t_change (project, issue_key, at, actor, kind, data, via) VALUES ('OLD', 'OLD-1', 1, 'a', 'k', '{}', 'X')", []).unwrap();
        let files: i64 = conn.query_row("SELECT count(*) FROM t_attachment", [], |r| r.get(0)).unwrap();
        assert_eq!(files, 0, "the attachments table was added");
        let v: i64 =
            conn.query_row("SELECT version FROM tracker_schema WHERE name = 'embedded'", [], |r| r.get(0)).unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
    }
}
