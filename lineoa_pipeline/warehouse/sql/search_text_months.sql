-- Rewrite the months first..last of `_search_text` in one scan of `messages` (months are spread over every
-- row group, so a scan per month would read the whole table each time). Values come in as literals (a bound
-- pattern makes DuckDB's regexp several times slower): first, last, and needs_folding, the RE2 pattern of
-- a character that needs folding. `lineoa_fold` is the Python function, called once per distinct content.
DELETE FROM _search_text WHERE month BETWEEN $first::DATE AND $last::DATE;

INSERT INTO _search_text
WITH range_rows AS (
    SELECT month, message_id, account_name, chat_name, sender_type, sender_name, sent_at, export_seq,
           source_file, utc_offset_minutes, content
    FROM messages
    WHERE month BETWEEN $first::DATE AND $last::DATE AND regexp_matches(content, $needs_folding)
),
folded AS (
    SELECT content, lineoa_fold(content) AS folded FROM (SELECT DISTINCT content FROM range_rows)
)
SELECT r.*, f.folded FROM range_rows r JOIN folded f USING (content);

INSERT INTO _search_months
SELECT DISTINCT month FROM messages WHERE month BETWEEN $first::DATE AND $last::DATE
EXCEPT SELECT month FROM _search_months;
