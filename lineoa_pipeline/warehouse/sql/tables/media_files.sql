/* ---
description: >
  Rows of every media manifest, each file verified and linked to the placeholder message it saves.
columns:
  account_name: The account.
  chat_name: The chat, as the warehouse names it (as written when no chat matches).
  sent_at: When the placeholder message was sent.
  kind: photo, video, voice or file.
  file: The file's path relative to media/.
  sha256: SHA-256 the manifest gives.
  bytes: Size the manifest gives.
  verification: ok, missing_file, or checksum_mismatch (also when the size differs).
  message_id: The placeholder message it saves (same account, chat, kind and second; one file per message); NULL
    if none.
--- */
CREATE TABLE IF NOT EXISTS media_files (
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    sent_at      TIMESTAMPTZ NOT NULL,
    kind         VARCHAR NOT NULL,
    file         VARCHAR NOT NULL,
    sha256       VARCHAR,
    bytes        BIGINT,
    verification VARCHAR NOT NULL,
    message_id   VARCHAR
);
