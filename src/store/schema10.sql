-- Migration 10: mappings and worklogs.
-- The sync's mapping file (TOML, as the admin gave it): status, priority,
-- type, custom field and user names of the partner mapped to ours.
ALTER TABLE sync ADD COLUMN mapping TEXT;
-- Worklogs paired across a sync, like comments.
CREATE TABLE worklog_link (
    sync_id   TEXT NOT NULL REFERENCES sync(id),
    local_key TEXT NOT NULL,
    local_id  TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    PRIMARY KEY (sync_id, remote_id)
);
CREATE UNIQUE INDEX worklog_link_local ON worklog_link (sync_id, local_id);
