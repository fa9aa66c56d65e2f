-- The messages `show` and `export` read, in transcript order, as the temp view `history_messages`: local
-- time from the message's own file, the saved file of a media placeholder (verified `ok`, relative to
-- media/), and, when masking, names and contents replaced (the temp tables of history/mask.py).
-- Values come in as literals (history/reader.py), so no parameter name may appear in a comment.
CREATE OR REPLACE TEMP VIEW history_messages AS
WITH chosen AS (
    SELECT m.message_id, m.account_name, m.chat_name, m.chat_type, m.sender_type, m.sender_name, m.kind,
           m.content, m.sent_at, m.export_seq, m.utc_offset_minutes AS offset_minutes,
           local_ts(m.sent_at, m.utc_offset_minutes) AS local, local_iso(m.sent_at, m.utc_offset_minutes) AS local_iso
    FROM messages m
    WHERE chat_selected(m.account_name, m.chat_name, $account, $chat_key)
      AND in_dates(local_ts(m.sent_at, m.utc_offset_minutes), $from_date::DATE, $to_date::DATE)
),
saved AS (
    SELECT message_id, min(file) AS media_file FROM media_files
    WHERE verification = 'ok' AND message_id IS NOT NULL GROUP BY message_id
)
SELECT c.message_id, c.account_name,
       CASE WHEN $mask THEN k.alias ELSE c.chat_name END AS chat_name,
       c.chat_name AS stored_chat_name, c.chat_type, c.sender_type,
       CASE WHEN $mask AND c.sender_type = 'user' THEN coalesce(n.alias, c.sender_name) ELSE c.sender_name END
           AS sender_name,
       c.kind,
       CASE WHEN $mask THEN mask_text(c.content, k.spellings) ELSE c.content END AS content,
       c.sent_at, c.export_seq, c.offset_minutes, c.local, c.local_iso,
       strftime(c.local, '%Y/%m/%d') || '(' || ['月', '火', '水', '木', '金', '土', '日'][isodow(c.local)] || ')' AS local_day,
       CASE WHEN $mask THEN mask_text(s.media_file, k.spellings) ELSE s.media_file END AS media_file
FROM chosen c
LEFT JOIN saved s USING (message_id)
LEFT JOIN _mask_chats k ON $mask AND k.account_name = c.account_name AND k.chat_name = c.chat_name
LEFT JOIN _mask_names n ON $mask AND n.account_name = c.account_name AND n.name = c.sender_name;
