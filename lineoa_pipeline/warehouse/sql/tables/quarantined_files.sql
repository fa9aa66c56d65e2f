/* ---
description: >
  Files that are not readable exports: archived, listed here, never half-loaded.
columns:
  file_path: Its inbox path (a CSV inside a zip is `backup.zip!inner.csv`).
  sha256: SHA-256 of its bytes.
  reason: Why it cannot be read.
  quarantined_at: When it was quarantined.
--- */
CREATE TABLE IF NOT EXISTS quarantined_files (
    file_path      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL
);
