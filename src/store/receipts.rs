//! What hearing from the partner means for a sync, one call per meaning:
//! the engine says what happened, the store records all it implies
//! (delivered messages leave the outbox, contact and sequence numbers,
//! whether an acknowledgement is due).

use anyhow::Result;
use rusqlite::Connection;

use super::{outbox, syncs, trouble, SyncRecord};

/// The partner was heard from, at `now`: our messages up to `ack` are
/// delivered (they leave the outbox), whatever it refused before is past,
/// and the sync is in contact (`seq`: the number of the message heard,
/// for one that has one). An `ack` beyond what was sent is an error.
pub fn heard(conn: &Connection, sync: &SyncRecord, ack: u64, seq: Option<u64>, now: i64) -> Result<()> {
    outbox::acknowledge(conn, &sync.id, ack, sync.out_seq)?;
    trouble::record(conn, &sync.id, "refused", None)?;
    syncs::record_contact(conn, &sync.id, seq, now)
}

/// Message `seq` of the partner is applied: the next one expected
/// follows it, and an acknowledgement is due.
pub fn applied(conn: &Connection, sync_id: &str, seq: u64) -> Result<()> {
    syncs::set_in_seq(conn, sync_id, seq)
}

/// A message applied before came again: the partner may not have had
/// our acknowledgement, so one is due again.
pub fn repeated(conn: &Connection, sync_id: &str) -> Result<()> {
    syncs::set_ack_due(conn, sync_id, true)
}

/// Our acknowledgement of what was applied went out.
pub fn acknowledged(conn: &Connection, sync_id: &str) -> Result<()> {
    syncs::set_ack_due(conn, sync_id, false)
}
