-- `lineoa search`: messages whose folded content contains the needle (folded already), newest first.
-- A message needs no folding unless its content holds a character outside the stable ranges (the
-- pattern needs_folding); those are matched through the folded form `_search_text` holds instead.
-- Values come in as literals (history/reader.py: query), so no parameter name may appear in a comment.
WITH hits AS (
    SELECT month, message_id, account_name, chat_name, sender_type, sender_name, sent_at, export_seq,
           utc_offset_minutes, content
    FROM messages
    WHERE contains(content, $needle)
      -- a month the side table does not cover yet (written outside the partitions): as stored, at least
      AND (NOT regexp_matches(content, $needs_folding) OR month NOT IN (SELECT month FROM _search_months))
    UNION ALL
    SELECT month, message_id, account_name, chat_name, sender_type, sender_name, sent_at, export_seq,
           utc_offset_minutes, content
    FROM _search_text
    WHERE contains(folded, $needle)
),
-- The page of results first, on the raw columns: formatting the local time of every hit costs more than the scan.
ranked AS (
    SELECT h.* EXCLUDE (month)
    FROM hits h
    WHERE chat_selected(h.account_name, h.chat_name, $account, $chat_key)
      AND ($sender IS NULL OR h.sender_type = $sender)
      AND in_dates(h.month, local_ts(h.sent_at, h.utc_offset_minutes), $from_date::DATE, $to_date::DATE)
    ORDER BY h.sent_at DESC, h.account_name, h.chat_name, h.export_seq DESC
    LIMIT $limit
)
SELECT message_id, account_name, chat_name, sender_type, sender_name, local_iso(sent_at, utc_offset_minutes) AS sent_at,
       content
FROM ranked
ORDER BY ranked.sent_at DESC, account_name, chat_name, export_seq DESC
