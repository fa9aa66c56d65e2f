-- Read every CSV of one batch in a single scan. The dialect is given, never sniffed (the sniffer misreads
-- valid exports); strict mode stays on so that a file cut off inside a quote is reported, not half-read.
-- `?` is the list of files; their metadata rows and header (4 lines) are skipped and read in Python.
CREATE OR REPLACE TEMP TABLE batch_raw AS
SELECT filename AS read_path, row_number() OVER () AS rn, st, sn, d, t, content
FROM read_csv(
    ?,
    columns = {'st': 'VARCHAR', 'sn': 'VARCHAR', 'd': 'VARCHAR', 't': 'VARCHAR', 'content': 'VARCHAR'},
    header = false, skip = 4, delim = ',', quote = '"', escape = '"', auto_detect = false,
    strict_mode = true, filename = true, store_rejects = true,
    rejects_table = 'batch_rejects', rejects_scan = 'batch_scans', parallel = true
);
