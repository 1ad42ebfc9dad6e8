-- Migration 4: an issue's comments are read by issue (snapshots, show).
CREATE INDEX t_comment_issue ON t_comment (issue_id, created_at, id);
