-- The warehouse's tables. Public: messages, source_files, quarantined_files, rejected_rows, chat_tags,
-- media_files (and the views in views/*.sql). Internal bookkeeping tables start with an underscore.

-- One row per distinct message: the same message in several exports is stored once. Writing a month
-- classifies its rows (sender_type, kind, chat_type) by the current settings.
CREATE TABLE IF NOT EXISTS messages (
    message_id   VARCHAR NOT NULL,   -- The message's identity: md5 of account, chat, sender type as written, sent_at, content and n (the rows of one file alike in all of those, numbered in file order).
    account_name VARCHAR NOT NULL,   -- The LINE Official Account, as its exports name it.
    chat_name    VARCHAR NOT NULL,   -- The chat, as the export's file name names it.
    chat_type    VARCHAR NOT NULL,   -- one_to_one, or group when an export of the chat lists two or more user sender names (lineoa.toml can override per chat).
    sender_type  VARCHAR NOT NULL,   -- user, staff, auto_reply (an auto-reply name), api (a Messaging API sender name) or broadcast (an api message sent to many chats at once).
    sender_name  VARCHAR NOT NULL,   -- The sender's display name as the export writes it.
    sent_at      TIMESTAMPTZ NOT NULL, -- When it was sent (the export's local time at its UTC offset).
    month        DATE NOT NULL,      -- First day of the local month of sent_at (the partition).
    kind         VARCHAR NOT NULL,   -- text, menu_tap (a user text that is one of the account's menu_texts), or from a placeholder text: photo, video, sticker, voice, file, location or unsent.
    content      VARCHAR NOT NULL,   -- The message text (for media, the placeholder text LINE writes).
    source_file  VARCHAR NOT NULL,   -- The export that first stored this message.
    export_seq   BIGINT NOT NULL,    -- Export order within the account (its messages numbered as they were staged): ties in sent_at are ordered by it.
    utc_offset_minutes INTEGER NOT NULL -- UTC offset of the export that first stored it (its time-zone row), in minutes: its local time in every view and read-back.
);

-- A warehouse made before messages carried their offset gains the column (last: rows are inserted in order),
-- filled below from the offsets of their files.
ALTER TABLE messages ADD COLUMN IF NOT EXISTS utc_offset_minutes INTEGER;

-- One row per export ingested; every file reconciles: rows_read = messages_new + duplicates + rejected.
CREATE TABLE IF NOT EXISTS source_files (
    file_path     VARCHAR NOT NULL,  -- Its inbox path; a CSV inside a zip is `backup.zip!inner.csv`.
    sha256        VARCHAR NOT NULL,  -- SHA-256 of its bytes.
    bytes         BIGINT NOT NULL,   -- Its size.
    account_name  VARCHAR NOT NULL,  -- The account it exports.
    chat_name     VARCHAR,           -- The chat, from its own file name (a zip member's own name); with sha256, what makes a file already seen.
    downloaded_at TIMESTAMPTZ NOT NULL, -- The download time it records.
    is_bulk       BOOLEAN NOT NULL,  -- True for a member of a bulk backup (a zip): only those count towards coverage.
    rows_read     BIGINT NOT NULL,   -- Message rows in the file (= messages_new + duplicates + rejected).
    messages_new  BIGINT NOT NULL,   -- Messages this file stored first.
    duplicates    BIGINT NOT NULL,   -- Messages an earlier file had stored.
    rejected      BIGINT NOT NULL,   -- Rows that went to rejected_rows.
    ingested_at   TIMESTAMPTZ NOT NULL -- When it was ingested.
);

-- A warehouse made before source_files named each file's chat gains the column (last; rows are inserted by name).
ALTER TABLE source_files ADD COLUMN IF NOT EXISTS chat_name VARCHAR;

-- Files that are not readable exports: archived, listed here, never half-loaded.
CREATE TABLE IF NOT EXISTS quarantined_files (
    file_path      VARCHAR NOT NULL, -- Its inbox path (a CSV inside a zip is `backup.zip!inner.csv`).
    sha256         VARCHAR NOT NULL, -- SHA-256 of its bytes.
    reason         VARCHAR NOT NULL, -- Why it cannot be read.
    quarantined_at TIMESTAMPTZ NOT NULL -- When it was quarantined.
);

-- Rows of an export, a tag CSV or a manifest that cannot be used; the rest of their file loads.
CREATE TABLE IF NOT EXISTS rejected_rows (
    source_file VARCHAR NOT NULL,    -- The export's path, or the CSV's (`tags/x.csv`, `media/.../manifest.csv`).
    line        BIGINT,              -- Physical line in the file (1 = an export's account-name row).
    raw         VARCHAR,             -- The row as written.
    reason      VARCHAR NOT NULL     -- Why it was rejected.
);

-- Chat tags from every tags/*.csv, each chat name resolved to the warehouse's.
CREATE TABLE IF NOT EXISTS chat_tags (
    account_name VARCHAR NOT NULL,   -- The account.
    chat_name    VARCHAR NOT NULL,   -- The chat, as the warehouse names it (as written when no chat matches).
    tag          VARCHAR NOT NULL    -- The tag.
);

-- Rows of every media manifest, each file verified and linked to the placeholder message it saves.
CREATE TABLE IF NOT EXISTS media_files (
    account_name VARCHAR NOT NULL,   -- The account.
    chat_name    VARCHAR NOT NULL,   -- The chat, as the warehouse names it (as written when no chat matches).
    sent_at      TIMESTAMPTZ NOT NULL, -- When the placeholder message was sent.
    kind         VARCHAR NOT NULL,   -- photo, video, voice or file.
    file         VARCHAR NOT NULL,   -- The file's path relative to media/.
    sha256       VARCHAR,            -- SHA-256 the manifest gives.
    bytes        BIGINT,             -- Size the manifest gives.
    verification VARCHAR NOT NULL,   -- ok, missing_file, or checksum_mismatch (also when the size differs).
    message_id   VARCHAR             -- The placeholder message it saves (same account, chat, kind and second; one file per message); NULL if none.
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

-- Each export's UTC offset (its time-zone row), keyed as a file is known: by its bytes and chat name, never
-- by its path (a chat downloaded again under the same name is another file). An account's zone is that of
-- its latest export.
CREATE TABLE IF NOT EXISTS _file_offsets (
    file_path          VARCHAR NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    sha256             VARCHAR,
    chat_name          VARCHAR
);

-- A warehouse made before offsets were keyed by bytes: each file's key from source_files, and each message's
-- offset from its file (both once: later runs find nothing to fill).
ALTER TABLE _file_offsets ADD COLUMN IF NOT EXISTS sha256 VARCHAR;
ALTER TABLE _file_offsets ADD COLUMN IF NOT EXISTS chat_name VARCHAR;
UPDATE _file_offsets o SET sha256 = s.sha256, chat_name = s.chat_name
FROM source_files s WHERE o.sha256 IS NULL AND s.file_path = o.file_path;
UPDATE messages m SET utc_offset_minutes = o.utc_offset_minutes
FROM (SELECT file_path, min(utc_offset_minutes) AS utc_offset_minutes FROM _file_offsets GROUP BY file_path) o
WHERE m.utc_offset_minutes IS NULL AND o.file_path = m.source_file;

-- Chats that at least one loaded export file shows as a group (two or more distinct User names in that one
-- file): chat type is decided per file, so it never depends on which file supplied the stored rows. A
-- warehouse made before this table starts from its stored rows.
CREATE TABLE IF NOT EXISTS _group_chats AS
SELECT account_name, chat_name FROM messages
WHERE sender_type = 'user' GROUP BY ALL HAVING count(DISTINCT sender_name) >= 2;

-- Chat names as matched by tags, manifests and chat-type overrides: NFKC, no white space or brackets.
CREATE TABLE IF NOT EXISTS _chat_keys (
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    name_key     VARCHAR NOT NULL
);

CREATE OR REPLACE VIEW _account_zones AS
SELECT s.account_name, arg_max(o.utc_offset_minutes, s.downloaded_at) AS utc_offset_minutes
FROM source_files s JOIN _file_offsets o ON o.sha256 = s.sha256 AND o.chat_name IS NOT DISTINCT FROM s.chat_name
GROUP BY s.account_name;

-- Each message carries its own offset (messages.utc_offset_minutes): a view by path would repeat or misdate
-- the messages of a chat downloaded again under the same name.
DROP VIEW IF EXISTS _file_zones;
