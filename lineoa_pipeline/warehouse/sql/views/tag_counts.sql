/* ---
description: >
  Per account, month and tag: the tagged chats with a message that month, the inquiries asked in
  them that month, and the median wait of those answered.
reads: [messages, response_times, chat_tags]
columns:
  account_name: The account, as its exports name it.
  month: First day of a local month with messages in the tagged chats.
  tag: The tag, as tags/*.csv writes it.
  chats: Chats with this tag and at least one message that month.
  inquiries: Inquiries asked that month in those chats.
  median_response_seconds: Median wait of those inquiries that were answered, in seconds (quantile_cont).
--- */
-- The months each chat has messages in are materialised, refreshed by views.create_views for the chats whose
-- messages changed (`_refresh_chats`, as `_response_times`), so that reading this view skips `messages`.
CREATE OR REPLACE TEMP VIEW _chat_months_fresh AS
SELECT DISTINCT account_name, chat_name, month FROM messages SEMI JOIN _refresh_chats USING (account_name, chat_name);

CREATE TABLE IF NOT EXISTS _chat_months AS SELECT * FROM _chat_months_fresh WITH NO DATA;
DELETE FROM _chat_months WHERE (account_name, chat_name) IN (SELECT account_name, chat_name FROM _refresh_chats);
INSERT INTO _chat_months SELECT * FROM _chat_months_fresh ORDER BY ALL;
DROP VIEW _chat_months_fresh;

CREATE OR REPLACE VIEW tag_counts AS
WITH tagged AS (
    SELECT t.account_name, t.chat_name, t.tag, m.month
    FROM (SELECT DISTINCT account_name, chat_name, tag FROM chat_tags) t
    JOIN _chat_months m USING (account_name, chat_name)
)
SELECT t.account_name, t.month, t.tag,
       count(DISTINCT t.chat_name) AS chats,
       count(r.asked_at) AS inquiries,
       quantile_cont(r.response_seconds, 0.5) AS median_response_seconds
FROM tagged t
LEFT JOIN response_times r USING (account_name, chat_name, month)
GROUP BY t.account_name, t.month, t.tag;
