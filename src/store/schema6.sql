-- Migration 6: attachments in the embedded tracker and their pairing
-- across a sync; pieces of changes too large for one message; the largest
-- message a sync sends; the IMAP position of email syncs.
-- (The embedded tracker's t_attachment: in its own migrations.)

CREATE TABLE attachment_link (
    sync_id   TEXT NOT NULL REFERENCES sync(id),
    local_key TEXT NOT NULL,
    local_id  TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    PRIMARY KEY (sync_id, remote_id)
);
CREATE UNIQUE INDEX attachment_link_local ON attachment_link (sync_id, local_id);

-- Pieces of one change that arrived so far (see protocol::Change::Part).
CREATE TABLE part (
    sync_id TEXT NOT NULL REFERENCES sync(id),
    part_id TEXT NOT NULL,
    idx     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (sync_id, part_id, idx)
);

ALTER TABLE sync ADD COLUMN max_message_bytes INTEGER NOT NULL DEFAULT 10000000;

-- Where an email sync's IMAP reading stands (RFC 3501 UIDVALIDITY/UID).
CREATE TABLE imap_position (
    sync_id     TEXT PRIMARY KEY REFERENCES sync(id),
    mailbox     TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL
);
