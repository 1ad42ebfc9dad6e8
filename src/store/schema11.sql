-- Migration 11: activity per sync and hour, for the console's chart and
-- the metrics' counters. Written in the transaction that enqueues or
-- applies a message, so the counts are exact (never twice, never lost).
CREATE TABLE activity (
    sync_id      TEXT NOT NULL REFERENCES sync(id),
    -- hours since the epoch (UTC)
    hour         INTEGER NOT NULL,
    messages_out INTEGER NOT NULL DEFAULT 0,
    changes_out  INTEGER NOT NULL DEFAULT 0,
    messages_in  INTEGER NOT NULL DEFAULT 0,
    changes_in   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sync_id, hour)
);
