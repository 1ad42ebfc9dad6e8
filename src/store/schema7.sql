-- Migration 7: many syncs in one home without replication loops. (The
-- change log's `via` is in the embedded tracker's own migrations.)
-- Whether a sync passes on changes that other syncs applied (a hub).
ALTER TABLE sync ADD COLUMN forward INTEGER NOT NULL DEFAULT 0;
-- The sync that took over from this one (it no longer collects changes).
ALTER TABLE sync ADD COLUMN replaced_by TEXT;

-- Where an issue, comment or attachment that arrived from a partner was
-- first made ("<fingerprint of the home that made it>/<its id there>"):
-- the same thing arriving by a second path is paired, not copied.
CREATE TABLE origin_id (
    kind  TEXT NOT NULL CHECK (kind IN ('issue', 'comment', 'attachment')),
    local TEXT NOT NULL,
    gid   TEXT NOT NULL,
    PRIMARY KEY (kind, gid)
);
CREATE INDEX origin_id_local ON origin_id (kind, local);
