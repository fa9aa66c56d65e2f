-- The messages `show` and `export` read, in transcript order, as the temp view `history_messages`: local
-- time from the message's own file, the saved file of a media placeholder (verified `ok`, relative to
-- media/) or, for a placeholder not saved, when LINE deletes it (local, `history_retention`) and the command
-- that saves it (not when masking), and, when masking, names and texts replaced (the temp tables of
-- history/mask.py) and no file name.
-- Values come in as literals (history/reader.py), so no parameter name may appear in a comment.
-- The pages a writer of transcripts draws, a batch per query (history/html.py, sql/transcript_pages.sql).
-- While the variable history_batch holds a batch number, `_history_chosen` reads only that batch's chats:
-- the filter runs in the scan, before the local times of the other chats' messages are computed (a weekly
-- run's thousand changed chats out of 55,000: a third of the time).
CREATE OR REPLACE TEMP TABLE _pages (account_name VARCHAR, chat_name VARCHAR, page VARCHAR, batch INTEGER);

CREATE OR REPLACE TEMP VIEW _history_chosen AS
SELECT m.message_id, m.account_name, m.chat_name, m.chat_type, m.sender_type, m.sender_name, m.kind,
       m.content, m.sent_at, m.export_seq, m.utc_offset_minutes AS offset_minutes,
       local_ts(m.sent_at, m.utc_offset_minutes) AS local, local_iso(m.sent_at, m.utc_offset_minutes) AS local_iso
FROM messages m
WHERE chat_selected(m.account_name, m.chat_name, $account, $chat_key)
  AND in_dates(m.month, local_ts(m.sent_at, m.utc_offset_minutes), $from_date::DATE, $to_date::DATE)
  AND (getvariable('history_batch') IS NULL
       OR (m.account_name, m.chat_name) IN (SELECT (account_name, chat_name) FROM _pages
                                            WHERE batch = getvariable('history_batch')));

CREATE OR REPLACE TEMP VIEW history_messages AS
WITH saved AS (
    SELECT message_id, min(file) AS media_file FROM media_files
    WHERE verification = 'ok' AND message_id IS NOT NULL GROUP BY message_id
)
SELECT c.message_id, c.account_name,
       CASE WHEN $mask THEN k.alias ELSE c.chat_name END AS chat_name,
       c.chat_name AS stored_chat_name, c.chat_type, c.sender_type,
       CASE WHEN $mask AND c.sender_type = 'user' THEN coalesce(n.alias, c.sender_name) ELSE c.sender_name END
           AS sender_name,
       c.kind,
       CASE WHEN $mask THEN coalesce(t.masked, c.content) ELSE c.content END AS content,
       c.sent_at, c.export_seq, c.offset_minutes, c.local, c.local_iso,
       CASE WHEN $mask THEN NULL ELSE s.media_file END AS media_file,
       s.media_file IS NOT NULL AS media_saved,
       CASE WHEN s.media_file IS NULL
            THEN strftime(local_ts(c.sent_at + to_seconds(r.days * 86400), c.offset_minutes), '%Y-%m-%d %H:%M') END
           AS deletes_at,
       CASE WHEN s.media_file IS NULL AND r.days IS NOT NULL AND NOT $mask
            THEN 'lineoa media save FILE --account ' || shell_quote(c.account_name) || ' --chat '
                 || shell_quote(c.chat_name) || ' --sent "' || strftime(c.local, '%Y-%m-%d %H:%M:%S') || '"' END
           AS save_command
FROM _history_chosen c
LEFT JOIN saved s USING (message_id)
LEFT JOIN history_retention r ON r.account_name = c.account_name AND r.chat_type = c.chat_type AND r.kind = c.kind
LEFT JOIN _mask_names k ON $mask AND k.account_name = c.account_name AND k.name = c.chat_name
LEFT JOIN _mask_names n ON $mask AND n.account_name = c.account_name AND n.name = c.sender_name
LEFT JOIN _mask_texts t ON $mask AND t.account_name = c.account_name AND t.text = c.content;

-- The selected chats' tags, masked like the contents.
CREATE OR REPLACE TEMP VIEW history_tags AS
SELECT g.account_name, g.chat_name, CASE WHEN $mask THEN coalesce(t.masked, g.tag) ELSE g.tag END AS tag
FROM chat_tags g
LEFT JOIN _mask_texts t ON $mask AND t.account_name = g.account_name AND t.text = g.tag;
