//! SQLite state: syncs, outbox, held messages, links, errors, quarantine.
//! One database per home (`postern.db`), WAL, `synchronous = FULL` so a
//! committed transaction survives a crash before the file it came from is
//! removed. Schema changes are numbered migrations.

pub mod activity;
pub mod conflicts;
pub mod lifecycle;
pub mod links;
pub mod origins;
pub mod outbox;
pub mod problems;
pub mod receipts;
pub mod replace;
pub mod seen;
pub mod skipped;
pub mod syncs;
pub mod transfers;
pub mod trouble;
pub mod verify;

use std::path::Path;

use anyhow::{Context, Result};
use rusqlite::Connection;

pub use crate::clock::now_ms;
pub use syncs::{Role, SyncRecord, SyncState};

const MIGRATIONS: &[&str] = &[
    include_str!("schema.sql"),
    include_str!("schema2.sql"),
    include_str!("schema3.sql"),
    include_str!("schema4.sql"),
    include_str!("schema5.sql"),
    include_str!("schema6.sql"),
    include_str!("schema7.sql"),
    include_str!("schema8.sql"),
    include_str!("schema9.sql"),
    include_str!("schema10.sql"),
    include_str!("schema11.sql"),
    include_str!("schema12.sql"),
    include_str!("schema13.sql"),
    include_str!("schema14.sql"),
    include_str!("schema15.sql"),
    include_str!("schema16.sql"),
    include_str!("schema17.sql"),
];

/// Opens (creating if needed) the database and brings its schema up to date.
pub fn open(path: &Path) -> Result<Connection> {
    let mut conn = Connection::open(path).with_context(|| format!("cannot open database {}", path.display()))?;
    // Writers take the write lock up front: a deferred transaction that
    // reads first cannot wait for the lock (SQLITE_BUSY_SNAPSHOT) when the
    // daemon and the command line write at the same time.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // A large transfer's pieces go through the WAL: do not keep it that big.
    conn.pragma_update(None, "journal_size_limit", 64i64 << 20)?;
    migrate(&conn).with_context(|| format!("cannot migrate database {}", path.display()))?;
    crate::tracker::embedded::schema::migrate(&conn)
        .with_context(|| format!("cannot migrate database {}", path.display()))?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version as usize > MIGRATIONS.len() {
        anyhow::bail!(
            "database schema version {version} is newer than this postern ({}); upgrade postern",
            MIGRATIONS.len()
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
