/* ---
description: >
  Rows of an export, a tag CSV or a manifest that cannot be used; the rest of their file loads.
columns:
  source_file: The export's path, or the CSV's (`tags/x.csv`, `media/.../manifest.csv`).
  line: Physical line in the file (1 = an export's account-name row).
  raw: The row as written.
  reason: Why it was rejected.
--- */
CREATE TABLE IF NOT EXISTS rejected_rows (
    source_file VARCHAR NOT NULL,
    line        BIGINT,
    raw         VARCHAR,
    reason      VARCHAR NOT NULL
);
