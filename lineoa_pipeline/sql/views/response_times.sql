/* ---
description: >
  One row per inquiry. Within a chat, in message order (sent_at, then export order), a user message
  asks unless an inquiry is already waiting, and the first staff message after it answers; auto
  replies and API messages neither ask nor answer. business_seconds counts the wait inside the
  account's business hours (weekly hours less holidays, in the account's UTC offset); without
  business hours it is the wait.
reads: [messages]
columns:
  account_name: The account, as its exports name it.
  chat_name: The chat the inquiry was asked in.
  month: First day of the local month of asked_at.
  asked_at: When the user message that started the inquiry was sent.
  replied_at: When the first staff message after it was sent; NULL while unanswered.
  response_seconds: Seconds from asked_at to replied_at; NULL while unanswered.
  business_seconds: The seconds of that wait inside business hours (equal to response_seconds without business hours); NULL while unanswered.
  replied_by: The sender name of the staff member who answered; NULL while unanswered.
--- */
-- Materialised, rebuilt by views.create_views after messages or settings change: its windows over every
-- message cost some 30 plain passes over `messages`, and three more views and the notebooks read it.
CREATE OR REPLACE TABLE _response_times AS
WITH turns AS (
    SELECT account_name, chat_name, month, sent_at, export_seq, sender_type, sender_name,
           lag(sender_type) OVER (PARTITION BY account_name, chat_name ORDER BY sent_at, export_seq) AS before
    FROM messages
    WHERE sender_type IN ('user', 'staff')
),
-- Where the sender type changes, user and staff alternate: each user row asks and the row after answers.
changes AS (
    SELECT account_name, chat_name, month, sent_at, sender_type,
           lead(sent_at) OVER chat AS replied_at,
           lead(sender_name) OVER chat AS replied_by
    FROM turns
    WHERE before IS DISTINCT FROM sender_type
    WINDOW chat AS (PARTITION BY account_name, chat_name ORDER BY sent_at, export_seq)
),
inquiries AS (
    SELECT c.account_name, c.chat_name, c.month, c.sent_at AS asked_at, c.replied_at,
           (epoch_us(c.replied_at) - epoch_us(c.sent_at)) // 1000000 AS response_seconds, c.replied_by,
           coalesce(a.has_business_hours, false) AS has_business_hours,
           -- seconds since 1970-01-01 00:00 local time
           epoch_us(c.sent_at) // 1000000 + coalesce(z.utc_offset_minutes, 0) * 60 AS asked_local,
           epoch_us(c.replied_at) // 1000000 + coalesce(z.utc_offset_minutes, 0) * 60 AS replied_local
    FROM changes c
    LEFT JOIN _cfg_accounts a USING (account_name)
    LEFT JOIN _account_zones z USING (account_name)
    WHERE c.sender_type = 'user'
),
hours AS (
    SELECT account_name, isodow, list({'s': start_s, 'e': end_s}) AS ranges, sum(end_s - start_s) AS open_s
    FROM _cfg_business_hours
    GROUP BY ALL
),
-- Local days (since 1970-01-01) of the accounts with business hours: their months with messages and a day
-- either side (a message's month comes from its own export's offset, which may differ from the latest).
days AS (
    SELECT account_name,
           unnest(range(min(month) - DATE '1970-01-01' - 1,
                        (max(month) + INTERVAL 1 MONTH)::DATE - DATE '1970-01-01' + 1)) AS day
    FROM messages
    WHERE account_name IN (SELECT account_name FROM _cfg_accounts WHERE has_business_hours)
    GROUP BY account_name
),
opening AS (
    SELECT d.account_name, d.day, CASE WHEN hol.day IS NULL THEN h.ranges END AS ranges,
           CASE WHEN hol.day IS NULL THEN coalesce(h.open_s, 0) ELSE 0 END AS open_s
    FROM days d
    LEFT JOIN hours h ON h.account_name = d.account_name AND h.isodow = (d.day + 3) % 7 + 1  -- day 0 was a Thursday
    LEFT JOIN (SELECT DISTINCT account_name, day - DATE '1970-01-01' AS day FROM _cfg_holidays) hol
        ON hol.account_name = d.account_name AND hol.day = d.day
),
-- Business seconds before each day start, and that day's ranges: B(t) = open_before + open part of day.
calendar AS (
    SELECT account_name, day, ranges,
           coalesce(sum(open_s) OVER (PARTITION BY account_name ORDER BY day
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS open_before
    FROM opening
)
SELECT i.account_name, i.chat_name, i.month, i.asked_at, i.replied_at, i.response_seconds,
       CASE WHEN NOT i.has_business_hours THEN i.response_seconds
            ELSE (r.open_before - a.open_before
                  + coalesce(list_sum(list_transform(r.ranges,
                        lambda x: greatest(0, least(i.replied_local % 86400, x.e) - x.s))), 0)
                  - coalesce(list_sum(list_transform(a.ranges,
                        lambda x: greatest(0, least(i.asked_local % 86400, x.e) - x.s))), 0))::BIGINT
       END AS business_seconds,
       i.replied_by
FROM inquiries i
LEFT JOIN calendar a ON a.account_name = i.account_name AND a.day = i.asked_local // 86400
LEFT JOIN calendar r ON r.account_name = i.account_name AND r.day = i.replied_local // 86400
ORDER BY i.account_name, i.month, i.chat_name, i.asked_at;

CREATE OR REPLACE VIEW response_times AS SELECT * FROM _response_times;
