-- The warehouse's tables. Public: messages, source_files, quarantined_files, rejected_rows, chat_tags,
-- media_files (and the views in views/*.sql). Internal bookkeeping tables start with an underscore.

-- Staging inserts each distinct message once (as user or staff, text, one_to_one); writing a month's
-- partition classifies its rows in place from the settings (sender_type, kind, chat_type).
CREATE TABLE IF NOT EXISTS messages (
    message_id   VARCHAR NOT NULL,   -- md5 of (account, chat, sender type as written, sent_at, content, n)
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    chat_type    VARCHAR NOT NULL,   -- one_to_one | group
    sender_type  VARCHAR NOT NULL,   -- user | staff | auto_reply | api | broadcast
    sender_name  VARCHAR NOT NULL,
    sent_at      TIMESTAMPTZ NOT NULL,
    month        DATE NOT NULL,      -- first day of the local month of sent_at (the partition)
    kind         VARCHAR NOT NULL,   -- text | menu_tap | photo | video | sticker | voice | file | location | unsent
    content      VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,   -- the export that first stored this message
    export_seq   BIGINT NOT NULL     -- export order: ties in sent_at are ordered by it
);

CREATE TABLE IF NOT EXISTS source_files (
    file_path     VARCHAR NOT NULL,  -- inbox path; a CSV inside a zip is `backup.zip!inner.csv`
    sha256        VARCHAR NOT NULL,
    bytes         BIGINT NOT NULL,
    account_name  VARCHAR NOT NULL,
    chat_name     VARCHAR NOT NULL,  -- from the file name, as messages.chat_name
    downloaded_at TIMESTAMPTZ NOT NULL,
    is_bulk       BOOLEAN NOT NULL,
    rows_read     BIGINT NOT NULL,   -- = messages_new + duplicates + rejected
    messages_new  BIGINT NOT NULL,
    duplicates    BIGINT NOT NULL,
    rejected      BIGINT NOT NULL,
    ingested_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS quarantined_files (
    file_path      VARCHAR NOT NULL,
    sha256         VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,
    quarantined_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS rejected_rows (
    source_file VARCHAR NOT NULL,
    line        BIGINT,              -- physical line in the file (1 = the account-name row)
    raw         VARCHAR,
    reason      VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS chat_tags (
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    tag          VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS media_files (
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    sent_at      TIMESTAMPTZ NOT NULL,
    kind         VARCHAR NOT NULL,
    file         VARCHAR NOT NULL,
    sha256       VARCHAR,
    bytes        BIGINT,
    verification VARCHAR NOT NULL,   -- ok | missing_file | checksum_mismatch
    message_id   VARCHAR
);

-- Inputs taken into archive/: one row per distinct SHA-256; staged_at is set once all of it is staged.
CREATE TABLE IF NOT EXISTS _inputs (
    sha256      VARCHAR PRIMARY KEY,
    file_path   VARCHAR NOT NULL,     -- the inbox path it first arrived under
    bytes       BIGINT NOT NULL,
    is_zip      BOOLEAN NOT NULL,
    archived_at TIMESTAMPTZ NOT NULL,
    staged_at   TIMESTAMPTZ
);

-- What the inbox held at the last look, so that unchanged files are not hashed again.
CREATE TABLE IF NOT EXISTS _inbox_files (
    file_path VARCHAR PRIMARY KEY,
    bytes     BIGINT NOT NULL,
    mtime_ns  BIGINT NOT NULL,
    sha256    VARCHAR NOT NULL
);

-- Months whose staged messages changed since their partition of `messages` was last written.
CREATE TABLE IF NOT EXISTS _pending_months (
    month DATE NOT NULL
);

-- Which classification settings (`_cfg_classification`) each account's months were last written with.
CREATE TABLE IF NOT EXISTS _written_months (
    account_name  VARCHAR NOT NULL,
    month         DATE NOT NULL,
    settings_hash VARCHAR
);

-- Each export's UTC offset (its time-zone row): an account's zone is that of its latest export.
CREATE TABLE IF NOT EXISTS _file_offsets (
    file_path          VARCHAR NOT NULL,
    utc_offset_minutes INTEGER NOT NULL
);

-- Chat names as matched by tags, manifests and chat-type overrides: NFKC, no white space or brackets.
CREATE TABLE IF NOT EXISTS _chat_keys (
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    name_key     VARCHAR NOT NULL
);

CREATE OR REPLACE VIEW _account_zones AS
SELECT s.account_name, arg_max(o.utc_offset_minutes, s.downloaded_at) AS utc_offset_minutes
FROM source_files s JOIN _file_offsets o USING (file_path)
GROUP BY s.account_name;

-- Each message's local time is that of its own export (messages.source_file): its offset, one per file.
CREATE OR REPLACE VIEW _file_zones AS
SELECT file_path AS source_file, min(utc_offset_minutes) AS utc_offset_minutes
FROM _file_offsets
GROUP BY file_path;
