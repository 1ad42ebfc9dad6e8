-- Migration 9: the sync life cycle and error history.
-- A paused sync collects, sends and applies nothing until resumed.
ALTER TABLE sync ADD COLUMN paused_at INTEGER;
-- When an issue's error first happened and how often it was tried.
ALTER TABLE issue_error ADD COLUMN first_at INTEGER;
ALTER TABLE issue_error ADD COLUMN tries INTEGER NOT NULL DEFAULT 1;
UPDATE issue_error SET first_at = at WHERE first_at IS NULL;
-- Issues that existed before the sync, chosen at create/accept (a resync
-- scope, JSON), sent once the partner is known; and the last resync's report.
ALTER TABLE sync ADD COLUMN initial_resync TEXT;
ALTER TABLE sync ADD COLUMN last_resync TEXT;
-- Fields one side owns (JSON: {"status": "master"}): the other side's
-- edits of them are not sent, the owner's always apply.
ALTER TABLE sync ADD COLUMN field_owners TEXT;
-- Edits both sides made to the same field before hearing of each other.
CREATE TABLE conflict (
    id            INTEGER PRIMARY KEY,
    sync_id       TEXT NOT NULL REFERENCES sync(id),
    local_key     TEXT NOT NULL,
    remote_key    TEXT NOT NULL,
    field         TEXT NOT NULL,
    local_value   TEXT NOT NULL,
    partner_value TEXT NOT NULL,
    local_at      INTEGER NOT NULL,
    partner_at    INTEGER NOT NULL,
    -- 'here', 'partner' or 'merged'
    winner        TEXT NOT NULL,
    policy        TEXT NOT NULL,
    at            INTEGER NOT NULL,
    -- 'open', 'dismissed' or 'reapplied'
    state         TEXT NOT NULL DEFAULT 'open'
);
CREATE INDEX conflict_sync ON conflict (sync_id, state);
-- Damage control: how many issues one cycle may create or change on the
-- partner's side (0: no limit); an admin's one-time permission to go over
-- it; and what is held back (JSON: side, issues, threshold, since).
ALTER TABLE sync ADD COLUMN mass_threshold INTEGER NOT NULL DEFAULT 100;
ALTER TABLE sync ADD COLUMN mass_allowed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync ADD COLUMN mass_held TEXT;
-- When each outgoing message was put together (our clock), so an edit can
-- be told apart as seen or not by a partner that had received up to a
-- number: kept for the last 1,000 messages.
CREATE TABLE out_time (
    sync_id TEXT NOT NULL REFERENCES sync(id),
    seq     INTEGER NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (sync_id, seq)
);
-- Edits of a paired issue up to this time count as known to the partner
-- (set when issues are paired from records).
ALTER TABLE link ADD COLUMN known_until INTEGER;
