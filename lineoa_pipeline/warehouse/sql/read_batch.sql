-- Read one export on its own (batches.stage_batch: a file that did not read cleanly with others), for its
-- rejected rows and their lines. The dialect is given, never sniffed (the sniffer misreads valid exports);
-- strict mode stays on so that a file cut off inside a quote is reported, not half-read. `?` is the list of
-- (one) file, then the longest line it may hold (its size: a field of any real length loads); its metadata
-- rows and header (4 lines) are skipped here and read in Python.
CREATE OR REPLACE TEMP TABLE batch_read AS
SELECT filename AS read_path, st, sn, d, t, content
FROM read_csv(
    ?,
    columns = {'st': 'VARCHAR', 'sn': 'VARCHAR', 'd': 'VARCHAR', 't': 'VARCHAR', 'content': 'VARCHAR'},
    header = false, skip = 4, delim = ',', quote = '"', escape = '"', auto_detect = false,
    strict_mode = true, max_line_size = ?, filename = true, store_rejects = true,
    rejects_table = 'batch_rejects', rejects_scan = 'batch_scans', parallel = true
);

-- rn is the read order: file by file in the list's order, rows in file order.
CREATE OR REPLACE TEMP TABLE batch_raw AS SELECT rowid AS rn, * FROM batch_read;

DROP TABLE batch_read;
