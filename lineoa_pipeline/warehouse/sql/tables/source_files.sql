/* ---
description: >
  One row per export ingested; every file reconciles: rows_read = messages_new + duplicates + rejected.
columns:
  file_path: Its inbox path; a CSV inside a zip is `backup.zip!inner.csv`.
  sha256: SHA-256 of its bytes.
  bytes: Its size.
  account_name: The account it exports.
  chat_name: The chat, from its own file name (a zip member's own name); with sha256, what makes a file already
    seen.
  downloaded_at: The download time it records.
  is_bulk: 'True for a member of a bulk backup (a zip): only those count towards coverage.'
  rows_read: Message rows in the file (= messages_new + duplicates + rejected).
  messages_new: Messages this file stored first.
  duplicates: Messages an earlier file had stored.
  rejected: Rows that went to rejected_rows.
  ingested_at: When it was ingested.
--- */
CREATE TABLE IF NOT EXISTS source_files (
    file_path     VARCHAR NOT NULL,
    sha256        VARCHAR NOT NULL,
    bytes         BIGINT NOT NULL,
    account_name  VARCHAR NOT NULL,
    chat_name     VARCHAR,
    downloaded_at TIMESTAMPTZ NOT NULL,
    is_bulk       BOOLEAN NOT NULL,
    rows_read     BIGINT NOT NULL,
    messages_new  BIGINT NOT NULL,
    duplicates    BIGINT NOT NULL,
    rejected      BIGINT NOT NULL,
    ingested_at   TIMESTAMPTZ NOT NULL
);

-- A warehouse made before source_files named each file's chat gains the column (last; rows are inserted by name).
ALTER TABLE source_files ADD COLUMN IF NOT EXISTS chat_name VARCHAR;
