//! A sync's tracker: its stored settings, with what its mapping file adds,
//! opened on the engine's connection.

use rusqlite::Connection;

use super::mapping::Mapping;
use crate::store::SyncRecord;
use crate::tracker::{AnyTracker, TrackerSettings};

/// The tracker settings stored with `sync`, with what its mapping file
/// gives Jira (its transition screens' values, the users it names by
/// account id).
pub fn settings(sync: &SyncRecord) -> anyhow::Result<TrackerSettings> {
    let mut settings = match sync.tracker.as_deref() {
        None => TrackerSettings::Embedded,
        Some(json) => serde_json::from_str(json)
            .map_err(|e| anyhow::anyhow!("the tracker settings of sync '{}' are damaged: {e}", sync.name))?,
    };
    // A damaged mapping file is said where it is applied.
    if let TrackerSettings::Jira(j) = &mut settings {
        if let Ok(m) = Mapping::of(sync.mapping.as_deref()) {
            j.screens = m.screens();
            j.account_ids = m.account_ids();
        }
    }
    Ok(settings)
}

/// The tracker of `sync`. `conn` is the engine's connection (its open
/// transaction): the embedded tracker works in it; other backends do not
/// touch it.
pub fn for_sync<'c>(sync: &SyncRecord, conn: &'c Connection) -> anyhow::Result<AnyTracker<'c>> {
    crate::tracker::open(&settings(sync)?, conn, &sync.id)
}
