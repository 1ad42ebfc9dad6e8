-- Migration 14: verify rounds (`sync verify`), the issues found to differ
-- from the partner, and each sync's verify schedule and policy.
CREATE TABLE verify_round (
    sync_id     TEXT NOT NULL REFERENCES sync(id),
    round       TEXT NOT NULL,
    -- 1: this side started it
    started_here INTEGER NOT NULL,
    repair      INTEGER NOT NULL DEFAULT 0,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    -- the report (JSON) once finished
    report      TEXT,
    -- calls to a remote tracker's API made for it on this side
    calls       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sync_id, round)
);
-- Issues that differed from the partner at the last verify that compared
-- them; a row goes when a later verify finds them equal.
CREATE TABLE divergent (
    sync_id  TEXT NOT NULL REFERENCES sync(id),
    issue    TEXT NOT NULL,
    what     TEXT NOT NULL,
    since    INTEGER NOT NULL,
    PRIMARY KEY (sync_id, issue)
);
CREATE TABLE verify_setting (
    sync_id  TEXT PRIMARY KEY REFERENCES sync(id),
    every_ms INTEGER NOT NULL,
    -- report | repair
    policy   TEXT NOT NULL
);
-- An issue's comment pairs are read by issue (`links::all`, `by_local`).
CREATE INDEX comment_link_issue ON comment_link (sync_id, local_key);
