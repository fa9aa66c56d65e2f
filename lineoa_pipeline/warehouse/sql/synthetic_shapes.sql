-- Synthetic messages for the views' benchmark and tests (synthetic/shapes.py): chats of one shape.
-- Message j of chat c: `slot` seconds apart on average, the sender from a hash of (c, j); an api message j goes
-- to every chat within five minutes. Stored as staging stores them (user or staff, text): write_months classifies.
INSERT INTO messages
WITH raw AS (
    SELECT i // $per_chat AS c, i % $per_chat AS j, hash(i) AS h FROM range($messages) t(i)
),
placed AS (
    SELECT c, j, h, h % 100 AS role,
           CASE WHEN c % 2 = 0 THEN 'clinic' ELSE 'studio' END AS account_name,
           CASE WHEN c % 2 = 0 THEN 540 ELSE 420 END AS offset_minutes,
           TIMESTAMPTZ '2025-01-01 00:00:00+00' + to_seconds(CASE WHEN role >= 90 THEN j * $slot + c % 300
               ELSE c % 86400 + j * $slot + (h % $slot)::BIGINT END) AS sent_at
    FROM raw
)
SELECT md5(c::VARCHAR || '-' || j::VARCHAR), account_name, 'chat ' || c::VARCHAR, 'one_to_one',
       CASE WHEN role < 45 THEN 'user' ELSE 'staff' END,
       CASE WHEN role < 45 THEN 'user ' || c::VARCHAR WHEN role < 80 THEN 'sender ' || (h % 7)::VARCHAR
            WHEN role < 90 THEN '応答メッセージ' ELSE 'Unknown' END,
       sent_at,
       date_trunc('month', timezone('UTC', sent_at) + to_minutes(offset_minutes))::DATE,
       'text',
       CASE WHEN role >= 90 THEN 'notice ' || j::VARCHAR WHEN role < 45 AND h % 20 = 0 THEN 'menu' ELSE 'content' END,
       'chat ' || c::VARCHAR || '.csv', j, offset_minutes
FROM placed;

-- Each chat its own export, downloaded at $downloaded, in its account's offset.
INSERT INTO source_files
SELECT DISTINCT source_file, '', 0, account_name, chat_name, $downloaded::TIMESTAMPTZ, true, 0, 0, 0, 0, now()
FROM messages;

INSERT INTO _file_offsets (file_path, utc_offset_minutes, sha256, chat_name)
SELECT file_path, CASE account_name WHEN 'clinic' THEN 540 ELSE 420 END, sha256, chat_name FROM source_files;

-- A tenth of the chats tagged.
INSERT INTO chat_tags
SELECT DISTINCT account_name, chat_name, 'tag ' || (hash(chat_name) % 5)::VARCHAR FROM messages
WHERE hash(chat_name) % 10 = 0;
