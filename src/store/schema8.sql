-- Migration 8: what keeps a sync from working, and since when, so that
-- `status` (another process) can say it. `what`: 'cycle' (reading the
-- tracker, receiving) or 'send'. Cleared by the next success.
CREATE TABLE sync_trouble (
    sync_id TEXT NOT NULL REFERENCES sync(id) ON DELETE CASCADE,
    what    TEXT NOT NULL,
    error   TEXT NOT NULL,
    since   INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    tries   INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (sync_id, what)
);

-- The tracker's cursor is opaque to the engine (a change-log id for the
-- embedded tracker, a time and more for others): kept as text.
ALTER TABLE sync ADD COLUMN cursor TEXT NOT NULL DEFAULT '0';
UPDATE sync SET cursor = CAST(change_cursor AS TEXT);
-- The tracker backend and its settings (JSON); NULL: the embedded tracker.
ALTER TABLE sync ADD COLUMN tracker TEXT;
