/* ---
description: >
  When customers write: per account, month, weekday and hour of the local time of each message's own export,
  the user messages (menu taps left out) and the inquiries asked. Only the hours with either.
reads: [messages, response_times]
columns:
  account_name: The account, as its exports name it.
  month: First day of the local month.
  weekday: Local weekday, 1 = Monday ... 7 = Sunday.
  hour: Local hour, 0-23.
  user_messages: User messages of any kind but menu taps sent in that hour.
  inquiries: Inquiries asked in that hour.
--- */
CREATE OR REPLACE VIEW hourly_volume AS
WITH local AS (
    SELECT m.account_name, m.month, 1 AS user_messages, 0 AS inquiries,
           make_timestamp(epoch_us(m.sent_at) + coalesce(m.utc_offset_minutes, 0) * 60000000::BIGINT) AS local_at
    FROM messages m
    WHERE m.sender_type = 'user' AND m.kind <> 'menu_tap'
    UNION ALL
    SELECT account_name, month, 0, 1, make_timestamp(asked_local * 1000000) FROM _response_times
)
SELECT account_name, month, isodow(local_at) AS weekday, hour(local_at) AS hour,
       sum(user_messages) AS user_messages, sum(inquiries) AS inquiries
FROM local
GROUP BY ALL;
