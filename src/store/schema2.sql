-- Migration 2: digests of every message taken, so that an exact copy of a
-- message received before (a replay) is told apart from a genuine resend
-- (which is encrypted afresh) and from a file left over by a crash between
-- commit and removal (`removed` still 0).
CREATE TABLE seen (
    sync_id TEXT NOT NULL REFERENCES sync(id),
    digest  TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    removed INTEGER NOT NULL DEFAULT 0,
    at      INTEGER NOT NULL,
    PRIMARY KEY (sync_id, digest)
);

-- (The change log's per-issue index moved to the embedded tracker's own
-- migrations.)
