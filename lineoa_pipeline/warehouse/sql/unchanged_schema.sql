-- Each stored export's body: the SHA-256 of its bytes after the three metadata lines (its header and rows),
-- in its own encoding. A later file with the same body, account, chat and time zone holds the same messages
-- (unchanged.py).
CREATE TABLE IF NOT EXISTS _file_bodies (
    file_path          VARCHAR NOT NULL,
    sha256             VARCHAR NOT NULL,
    account_name       VARCHAR NOT NULL,
    chat_name          VARCHAR NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    encoding           VARCHAR NOT NULL,
    body_sha256        VARCHAR NOT NULL
);
