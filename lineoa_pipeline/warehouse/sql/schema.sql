-- The warehouse's internal bookkeeping tables (their names start with an underscore), made after the public
-- tables of tables/*.sql (each file with its description and columns in front matter, as the views).

-- A warehouse made before messages carried their offset gains the column (last: rows are inserted in order),
-- filled below from the offsets of their files.
ALTER TABLE messages ADD COLUMN IF NOT EXISTS utc_offset_minutes INTEGER;

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

-- Files staged whose months no run has written yet (a run interrupted between its two jobs): the run that
-- writes them counts these files as its own. Emptied once no month is pending.
CREATE TABLE IF NOT EXISTS _unwritten_files (
    file_path VARCHAR NOT NULL,
    sha256    VARCHAR NOT NULL
);

-- Which classification settings (`_cfg_classification`) each account's months were last written with.
CREATE TABLE IF NOT EXISTS _written_months (
    account_name  VARCHAR NOT NULL,
    month         DATE NOT NULL,
    settings_hash VARCHAR
);

-- Each export's UTC offset (its time-zone row), keyed as a file is known: by its bytes and chat name, never
-- by its path (a chat downloaded again under the same name is another file). An account's zone is that of
-- its latest export; its pages are in the UI language of its latest export's labels.
CREATE TABLE IF NOT EXISTS _file_offsets (
    file_path          VARCHAR NOT NULL,
    utc_offset_minutes INTEGER NOT NULL,
    ui_language        VARCHAR,
    sha256             VARCHAR,
    chat_name          VARCHAR
);

-- A warehouse made before files recorded their language gains the column (NULL until a rebuild); one made
-- before offsets were keyed by bytes: each file's key from source_files, and each message's offset from its
-- file (both once: later runs find nothing to fill).
ALTER TABLE _file_offsets ADD COLUMN IF NOT EXISTS ui_language VARCHAR;
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
