-- Migration 16: attachment and worklog pairs belong to an issue, as
-- comment pairs do since migration 15. A tracker that gives a deleted
-- attachment's or time entry's id to a new one on another issue (Redmine
-- on SQLite reuses the highest id) pairs the new one without taking the
-- old one's pair away.
CREATE TABLE attachment_link_by_issue (
    sync_id   TEXT NOT NULL REFERENCES sync(id),
    local_key TEXT NOT NULL,
    local_id  TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    PRIMARY KEY (sync_id, local_key, remote_id)
);
INSERT INTO attachment_link_by_issue (sync_id, local_key, local_id, remote_id)
    SELECT sync_id, local_key, local_id, remote_id FROM attachment_link;
DROP TABLE attachment_link;
ALTER TABLE attachment_link_by_issue RENAME TO attachment_link;
CREATE UNIQUE INDEX attachment_link_local ON attachment_link (sync_id, local_key, local_id);

CREATE TABLE worklog_link_by_issue (
    sync_id   TEXT NOT NULL REFERENCES sync(id),
    local_key TEXT NOT NULL,
    local_id  TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    PRIMARY KEY (sync_id, local_key, remote_id)
);
INSERT INTO worklog_link_by_issue (sync_id, local_key, local_id, remote_id)
    SELECT sync_id, local_key, local_id, remote_id FROM worklog_link;
DROP TABLE worklog_link;
ALTER TABLE worklog_link_by_issue RENAME TO worklog_link;
CREATE UNIQUE INDEX worklog_link_local ON worklog_link (sync_id, local_key, local_id);
