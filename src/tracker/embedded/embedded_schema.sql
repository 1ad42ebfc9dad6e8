-- The embedded tracker's migration 1: its tables as of postern 0.1. It
-- only adds what is missing: homes made before the tracker had its own
-- migrations got these tables from the state database's migrations 1-7.
CREATE TABLE IF NOT EXISTS t_project (
    key         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    next_number INTEGER NOT NULL DEFAULT 1,
    statuses    TEXT
);

CREATE TABLE IF NOT EXISTS t_issue (
    id          INTEGER PRIMARY KEY,
    project     TEXT NOT NULL REFERENCES t_project(key),
    key         TEXT NOT NULL UNIQUE,
    summary     TEXT NOT NULL,
    description TEXT NOT NULL,
    status      TEXT NOT NULL,
    priority    TEXT NOT NULL,
    labels      TEXT NOT NULL,
    assignee    TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS t_comment (
    id           INTEGER PRIMARY KEY,
    issue_id     INTEGER NOT NULL REFERENCES t_issue(id),
    author       TEXT NOT NULL,
    on_behalf_of TEXT,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0
);

-- The change log the sync reads. `origin` is the sync id when postern
-- applied the change for that sync's partner (never sent back there).
CREATE TABLE IF NOT EXISTS t_change (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    project   TEXT NOT NULL,
    issue_key TEXT NOT NULL,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    origin    TEXT,
    kind      TEXT NOT NULL,
    data      TEXT NOT NULL,
    -- The peers (key fingerprints, space-separated) a change applied for a
    -- partner has crossed, the sender included.
    via       TEXT
);
CREATE INDEX IF NOT EXISTS t_change_project ON t_change (project, id);
CREATE INDEX IF NOT EXISTS t_change_issue ON t_change (issue_key, id);
CREATE INDEX IF NOT EXISTS t_comment_issue ON t_comment (issue_id, created_at, id);

CREATE TABLE IF NOT EXISTS t_attachment (
    id           INTEGER PRIMARY KEY,
    issue_id     INTEGER NOT NULL REFERENCES t_issue(id),
    filename     TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    data         BLOB NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    author       TEXT NOT NULL,
    on_behalf_of TEXT,
    created_at   INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS t_attachment_issue ON t_attachment (issue_id);
