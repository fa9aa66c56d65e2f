-- Read one batch's rows from the few CSVs batches._write_together wrote: every file's rows, each file after a
-- marker row `<nonce>,<file_rank>,,,`, each CSV closed by `<nonce>,end,,,`. Same dialect as read_batch.sql, no
-- lines to skip. `?`: the CSVs and the longest line they may hold (the largest file's size), then the nonce. Python then checks that nothing was rejected and that every
-- marker is there, once.
CREATE OR REPLACE TEMP TABLE batch_read AS
SELECT st, sn, d, t, content
FROM read_csv(
    ?,
    columns = {'st': 'VARCHAR', 'sn': 'VARCHAR', 'd': 'VARCHAR', 't': 'VARCHAR', 'content': 'VARCHAR'},
    header = false, delim = ',', quote = '"', escape = '"', auto_detect = false,
    strict_mode = true, max_line_size = ?, store_rejects = true,
    rejects_table = 'batch_rejects', rejects_scan = 'batch_scans', parallel = true
);

-- The markers: `file_rank` a file's, or `end` at the end of a CSV. A file's rows lie between its marker and
-- the next one.
CREATE OR REPLACE TEMP TABLE batch_markers AS
SELECT rowid AS marker_rn, sn AS file_rank, lead(rowid) OVER (ORDER BY rowid) AS next_rn
FROM batch_read WHERE st = ?;

-- Each row belongs to the file of the marker before it; rn is the read order, as in read_batch.sql. The row
-- numbers of each file's span are joined on: cheaper than a window over every row.
CREATE OR REPLACE TEMP TABLE batch_raw AS
WITH owners AS (
    SELECT unnest(range(m.marker_rn + 1, m.next_rn)) AS rn, f.read_path
    FROM batch_markers m JOIN batch_files f ON f.file_rank::VARCHAR = m.file_rank
)
SELECT o.rn, o.read_path, r.st, r.sn, r.d, r.t, r.content
FROM batch_read r JOIN owners o ON o.rn = r.rowid;

DROP TABLE batch_read;
