-- Migration 13: attachments that did not cross, and cancelled transfers.
-- The sender's attachment id of an incoming transfer (a delete that
-- overtakes its chunks cancels it).
ALTER TABLE transfer_in ADD COLUMN attachment TEXT NOT NULL DEFAULT '';
-- Attachments over a sync's limit: ours not sent (out), the partner's not
-- received (in). Listed by `status` and `errors list`; they block nothing.
-- A row goes when the attachment crosses after all, or is deleted.
CREATE TABLE attachment_skipped (
    sync_id    TEXT NOT NULL REFERENCES sync(id),
    direction  TEXT NOT NULL,
    -- ours (out) or the partner's (in) issue key
    issue      TEXT NOT NULL,
    -- the attachment's id on the side it belongs to
    attachment TEXT NOT NULL,
    filename   TEXT NOT NULL,
    size       INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (sync_id, direction, attachment)
);
