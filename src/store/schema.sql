-- postern state, migration 1. The embedded tracker's tables (t_*) live in
-- the same database so that applying a change and recording its sequence
-- number commit in one transaction.

CREATE TABLE sync (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    description       TEXT NOT NULL,
    role              TEXT NOT NULL CHECK (role IN ('master', 'slave')),
    protocol          TEXT NOT NULL CHECK (protocol IN ('file', 'email')),
    project           TEXT NOT NULL,
    sync_user         TEXT NOT NULL,
    exchange_dir      TEXT NOT NULL,
    state             TEXT NOT NULL CHECK (state IN ('handshake', 'active')),
    partner_fpr       TEXT,
    partner_cert      TEXT,
    pairing_secret    TEXT,
    pairing_used      INTEGER NOT NULL DEFAULT 0,
    handshake_expires INTEGER,
    created_at        INTEGER NOT NULL,
    out_seq           INTEGER NOT NULL DEFAULT 0,
    out_acked         INTEGER NOT NULL DEFAULT 0,
    in_seq            INTEGER NOT NULL DEFAULT 0,
    change_cursor     INTEGER NOT NULL DEFAULT 0,
    ack_due           INTEGER NOT NULL DEFAULT 0,
    last_received_at  INTEGER,
    last_received_seq INTEGER,
    last_resend_request_at INTEGER,
    resend_after_ms   INTEGER NOT NULL DEFAULT 60000,
    gap_after_ms      INTEGER NOT NULL DEFAULT 10000
);

-- Numbered messages kept until the partner acknowledges them.
CREATE TABLE outbox (
    sync_id      TEXT NOT NULL REFERENCES sync(id),
    seq          INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_sent_at INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sync_id, seq)
);

-- Verified messages that arrived ahead of a gap.
CREATE TABLE held (
    sync_id     TEXT NOT NULL REFERENCES sync(id),
    seq         INTEGER NOT NULL,
    envelope    TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (sync_id, seq)
);

-- Paired issues (Backbone's "firstConnector" record).
CREATE TABLE link (
    id                   INTEGER PRIMARY KEY,
    sync_id              TEXT NOT NULL REFERENCES sync(id),
    local_key            TEXT NOT NULL,
    remote_key           TEXT,
    first_sync           INTEGER NOT NULL,
    last_outgoing_change INTEGER,
    last_change_seen     INTEGER,
    out_seq              INTEGER,
    last_incoming_change INTEGER,
    in_seq               INTEGER,
    ignored              INTEGER NOT NULL DEFAULT 0,
    UNIQUE (sync_id, local_key)
);
CREATE UNIQUE INDEX link_remote ON link (sync_id, remote_key);

CREATE TABLE comment_link (
    sync_id   TEXT NOT NULL REFERENCES sync(id),
    local_key TEXT NOT NULL,
    local_id  TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    PRIMARY KEY (sync_id, remote_id)
);
CREATE UNIQUE INDEX comment_link_local ON comment_link (sync_id, local_id);

-- Changes waiting behind a failed change to the same issue.
CREATE TABLE parked (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    sync_id      TEXT NOT NULL REFERENCES sync(id),
    remote_issue TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    change       TEXT NOT NULL
);

CREATE TABLE issue_error (
    sync_id      TEXT NOT NULL REFERENCES sync(id),
    remote_issue TEXT NOT NULL,
    local_key    TEXT,
    seq          INTEGER NOT NULL,
    reason       TEXT NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (sync_id, remote_issue)
);

CREATE TABLE quarantine (
    id      INTEGER PRIMARY KEY,
    sync_id TEXT,
    file    TEXT NOT NULL,
    reason  TEXT NOT NULL,
    at      INTEGER NOT NULL
);

-- The embedded tracker's tables (t_*) have their own migrations:
-- src/tracker/embedded_schema.sql.
