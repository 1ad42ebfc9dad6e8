-- Migration 15: comment pairs belong to an issue. A tracker that gives a
-- deleted comment's id to a new one (Redmine on SQLite reuses the highest
-- id) pairs the new one without taking the old one's pair away, and a
-- change of the old one still finds its own.
CREATE TABLE comment_link_by_issue (
    sync_id   TEXT NOT NULL REFERENCES sync(id),
    local_key TEXT NOT NULL,
    local_id  TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    PRIMARY KEY (sync_id, local_key, remote_id)
);
INSERT INTO comment_link_by_issue (sync_id, local_key, local_id, remote_id)
    SELECT sync_id, local_key, local_id, remote_id FROM comment_link;
DROP TABLE comment_link;
ALTER TABLE comment_link_by_issue RENAME TO comment_link;
CREATE UNIQUE INDEX comment_link_local ON comment_link (sync_id, local_key, local_id);
