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
