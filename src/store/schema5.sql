-- Migration 5: mail settings (JSON) of syncs using the email protocol.
ALTER TABLE sync ADD COLUMN mail TEXT;
