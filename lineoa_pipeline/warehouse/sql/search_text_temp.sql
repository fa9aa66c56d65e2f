-- A warehouse written before search existed has no `_search_text` until its next run: build it in memory for
-- this search (exact, only slower). Values come in as literals: needs_folding as in search_text_months.sql.
CREATE TEMP TABLE _search_months AS SELECT DISTINCT month FROM messages;

CREATE TEMP TABLE _search_text AS
SELECT month, message_id, account_name, chat_name, sender_type, sender_name, sent_at, export_seq, source_file,
       utc_offset_minutes, content, lineoa_fold(content) AS folded
FROM messages
WHERE regexp_matches(content, $needs_folding);
