-- Migration 17: an issue's error that holds back nothing. A write that
-- took all but a value the tracker cannot hold (outside a Redmine list's
-- values) is listed on its issue, and its change kept for a retry, while
-- the issue's later changes go on.
ALTER TABLE issue_error ADD COLUMN blocks INTEGER NOT NULL DEFAULT 1;
