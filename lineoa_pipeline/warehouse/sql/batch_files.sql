-- The exports of one staging batch, in the order they are taken (download time, then path).
CREATE OR REPLACE TEMP TABLE batch_files (
    read_path          VARCHAR,      -- where DuckDB reads it (UTF-8)
    source_file        VARCHAR,      -- its name in the warehouse: inbox path, `zip!member` inside a zip
    sha256             VARCHAR,
    bytes              BIGINT,
    account_name       VARCHAR,
    utc_offset_minutes INTEGER,
    downloaded_at      TIMESTAMPTZ,
    is_bulk            BOOLEAN,
    chat_name          VARCHAR,
    file_rank          INTEGER,
    ui_language        VARCHAR       -- the UI language of its labels: ja, en, zh-TW or th
);
