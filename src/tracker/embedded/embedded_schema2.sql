-- The embedded tracker's migration 2: issue types, due dates, custom
-- fields, worklogs and a user directory (for mappings by e-mail).
ALTER TABLE t_issue ADD COLUMN issue_type TEXT;
ALTER TABLE t_issue ADD COLUMN due_date TEXT;
ALTER TABLE t_issue ADD COLUMN custom TEXT NOT NULL DEFAULT '{}';
-- Allowed priorities and types (JSON lists); NULL allows any.
ALTER TABLE t_project ADD COLUMN priorities TEXT;
ALTER TABLE t_project ADD COLUMN types TEXT;

CREATE TABLE t_worklog (
    id           INTEGER PRIMARY KEY,
    issue_id     INTEGER NOT NULL REFERENCES t_issue(id),
    author       TEXT NOT NULL,
    on_behalf_of TEXT,
    minutes      INTEGER NOT NULL,
    spent_on     TEXT NOT NULL,
    comment      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    deleted      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX t_worklog_issue ON t_worklog (issue_id);

-- Users by name; empty: any name is taken as an assignee.
CREATE TABLE t_user (
    name  TEXT PRIMARY KEY,
    email TEXT
);
