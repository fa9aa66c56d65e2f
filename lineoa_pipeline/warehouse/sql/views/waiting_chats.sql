/* ---
description: >
  The backlog an operator must clear (LINE's 要対応): every chat, of any type, whose latest inquiry over all
  its stored messages has no answer, with how long it has waited by the chat's latest export, in seconds and
  in business seconds (the account's business hours, in the local time of the question's own export).
reads: [response_times, source_files]
columns:
  account_name: The account, as its exports name it.
  chat_name: The waiting chat.
  chat_type: one_to_one or group.
  waiting_since: When the unanswered inquiry was asked.
  as_of: The latest download time of an export of the chat (bulk members and single CSVs alike).
  waiting_seconds: max(0, as_of - waiting_since) in seconds.
  business_seconds: The seconds of [waiting_since, as_of] in business hours (0 when the interval is empty).
--- */
-- Materialised with response_times (rebuilt by views.create_views): an asset check reads it too.
CREATE OR REPLACE TABLE _waiting_chats AS
WITH latest AS (
    SELECT * FROM _response_times
    QUALIFY row_number() OVER (PARTITION BY account_name, chat_name ORDER BY asked_at DESC, asked_seq DESC) = 1
),
waiting AS (
    SELECT l.account_name, l.chat_name, l.chat_type, l.asked_at AS waiting_since, f.as_of,
           greatest(0, (epoch_us(f.as_of) - epoch_us(l.asked_at)) // 1000000) AS waiting_seconds,
           l.asked_local, l.asked_local + waiting_seconds AS as_of_local, l.has_business_hours
    FROM latest l
    JOIN (SELECT account_name, chat_name, max(downloaded_at) AS as_of FROM source_files GROUP BY ALL) f
        USING (account_name, chat_name)
    WHERE l.replied_at IS NULL
)
SELECT w.account_name, w.chat_name, w.chat_type, w.waiting_since, w.as_of, w.waiting_seconds,
       CASE WHEN NOT w.has_business_hours THEN w.waiting_seconds
            ELSE (_business_clock(b.open_before, b.ranges, w.as_of_local)
                  - _business_clock(a.open_before, a.ranges, w.asked_local))::BIGINT
       END AS business_seconds
FROM waiting w
LEFT JOIN _business_calendar a ON a.account_name = w.account_name AND a.day = w.asked_local // 86400
LEFT JOIN _business_calendar b ON b.account_name = w.account_name AND b.day = w.as_of_local // 86400
ORDER BY w.account_name, w.waiting_seconds DESC, w.chat_name;

CREATE OR REPLACE VIEW waiting_chats AS SELECT * FROM _waiting_chats;
