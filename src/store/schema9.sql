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
