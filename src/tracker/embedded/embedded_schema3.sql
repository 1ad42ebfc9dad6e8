-- The embedded tracker's migration 3: attachment content in pieces of at
-- most 1 MiB, written and read one piece at a time (a file of any size in
-- bounded memory, in the same transaction as the rest). Content kept whole
-- by earlier versions is cut into pieces.
CREATE TABLE t_attachment_piece (
    attachment_id INTEGER NOT NULL REFERENCES t_attachment(id),
    idx           INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (attachment_id, idx)
);
WITH RECURSIVE piece(id, idx) AS (
    SELECT id, 0 FROM t_attachment WHERE length(data) > 0
    UNION ALL
    SELECT piece.id, piece.idx + 1 FROM piece JOIN t_attachment a ON a.id = piece.id
    WHERE (piece.idx + 1) * 1048576 < length(a.data)
)
INSERT INTO t_attachment_piece (attachment_id, idx, data)
SELECT piece.id, piece.idx, substr(a.data, piece.idx * 1048576 + 1, 1048576)
FROM piece JOIN t_attachment a ON a.id = piece.id;
UPDATE t_attachment SET data = x'' WHERE length(data) > 0;
