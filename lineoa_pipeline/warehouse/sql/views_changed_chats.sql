-- Which chats the materialised views (`_response_times`, `_line_reply_times`) must be rebuilt for: a run
-- refreshes only the chats whose messages, account settings or view SQL changed since they were last built.

-- Per chat, the fingerprint of what its rows in the materialised views were built from.
CREATE TABLE IF NOT EXISTS _view_chats (
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    fingerprint  UBIGINT NOT NULL
);

-- Every chat's fingerprint now: its messages as classified (a reclassified month changes it), the settings of
-- its account the views read (api_answers, business hours, holidays), and the views' SQL (a hash of it).
CREATE OR REPLACE TEMP TABLE _chat_prints AS
WITH account_settings AS (
    SELECT account_name, hash(list(setting ORDER BY setting)) AS print
    FROM (
        SELECT account_name, a::VARCHAR AS setting FROM _cfg_accounts a
        UNION ALL SELECT account_name, h::VARCHAR FROM _cfg_business_hours h
        UNION ALL SELECT account_name, d::VARCHAR FROM _cfg_holidays d
    )
    GROUP BY account_name
)
SELECT m.account_name, m.chat_name,
       hash(count(*), bit_xor(hash(m.message_id, m.sender_type, m.kind, m.chat_type, m.sent_at, m.export_seq,
                                   m.source_file)),
            any_value(s.print), ?) AS fingerprint
FROM messages m
LEFT JOIN account_settings s USING (account_name)
GROUP BY m.account_name, m.chat_name;

-- The chats whose fingerprint differs, is new, or is gone (their rows are deleted).
CREATE OR REPLACE TEMP TABLE _refresh_chats AS
SELECT account_name, chat_name FROM (SELECT * FROM _chat_prints EXCEPT SELECT * FROM _view_chats)
UNION
SELECT account_name, chat_name FROM (SELECT * FROM _view_chats EXCEPT SELECT * FROM _chat_prints);
