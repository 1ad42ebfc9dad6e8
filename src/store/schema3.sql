-- Migration 3: key rotation without a new handshake.
-- own_fpr: the key of ours the partner has pinned. When the own key file
-- holds another key, a rekey message (signed by the old key) is queued:
-- own_rekey_seq is its number, own_prev_fpr the retired key that signs
-- everything up to it. partner_prev_*: the partner's retired certificate,
-- believed for its messages up to partner_prev_until, and for control
-- messages until the first message signed by the new key arrives.
ALTER TABLE sync ADD COLUMN own_fpr TEXT;
ALTER TABLE sync ADD COLUMN own_prev_fpr TEXT;
ALTER TABLE sync ADD COLUMN own_rekey_seq INTEGER;
ALTER TABLE sync ADD COLUMN partner_prev_fpr TEXT;
ALTER TABLE sync ADD COLUMN partner_prev_cert TEXT;
ALTER TABLE sync ADD COLUMN partner_prev_until INTEGER;
ALTER TABLE sync ADD COLUMN partner_prev_retired INTEGER NOT NULL DEFAULT 0;
