-- Migration 12: large attachments streamed in chunks (engine::transfers).
-- The largest attachment a sync sends or takes, in bytes (2 GiB).
ALTER TABLE sync ADD COLUMN max_attachment_bytes INTEGER NOT NULL DEFAULT 2147483648;
-- A chunk held for a gap keeps its bytes here (they are not in the JSON).
ALTER TABLE held ADD COLUMN payload BLOB;
-- Attachments on their way out: copied from the tracker into a spool file,
-- then queued a few chunks at a time (see `feed`).
CREATE TABLE transfer_out (
    sync_id    TEXT NOT NULL REFERENCES sync(id),
    id         TEXT NOT NULL,
    -- our issue key and attachment id
    issue      TEXT NOT NULL,
    attachment TEXT NOT NULL,
    -- the AttachmentSnapshot as the partner gets it (JSON, names mapped);
    -- size and sha256 are set when the spool file is written
    meta       TEXT NOT NULL,
    via        TEXT NOT NULL DEFAULT '[]',
    size       INTEGER NOT NULL DEFAULT 0,
    chunk      INTEGER NOT NULL,
    -- 0 until the spool file is written
    total      INTEGER NOT NULL DEFAULT 0,
    next_index INTEGER NOT NULL DEFAULT 0,
    -- the sequence number of the last chunk, once queued
    last_seq   INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (sync_id, id)
);
-- Attachments on their way in: chunks written into a spool file.
CREATE TABLE transfer_in (
    sync_id    TEXT NOT NULL REFERENCES sync(id),
    id         TEXT NOT NULL,
    -- the sender's issue key
    issue      TEXT NOT NULL,
    filename   TEXT NOT NULL,
    size       INTEGER NOT NULL,
    total      INTEGER NOT NULL,
    received   INTEGER NOT NULL DEFAULT 0,
    bytes      INTEGER NOT NULL DEFAULT 0,
    -- receiving | complete (waits in an issue's error) | refused
    state      TEXT NOT NULL DEFAULT 'receiving',
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (sync_id, id)
);
