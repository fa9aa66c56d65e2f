/* ---
description: >
  One row per inquiry. Within a chat, in message order (sent_at, then export order), a user message of any
  kind but a menu tap starts an inquiry unless one is already waiting, and the first answering message after
  it answers it: a staff message, or (for an account with api_answers) an api message, never a broadcast.
  Auto replies, other api messages, broadcasts and menu taps neither start nor answer. business_seconds
  counts the wait inside the account's business hours (weekly hours less holidays) in the local time of the
  question's own export; without business hours it is the wait.
reads: [messages, source_files]
columns:
  account_name: The account, as its exports name it.
  chat_name: The chat, as its export's file name names it.
  month: First day of the local month of asked_at.
  asked_at: When the user message that started the inquiry was sent.
  replied_at: When the answering message was sent; NULL while unanswered.
  response_seconds: Seconds from asked_at to replied_at; NULL while unanswered.
  business_seconds: Those seconds that fall in the account's business hours; NULL while unanswered.
  replied_by: The sender name of the answering message (a staff member, or the API tool); NULL while unanswered.
--- */
-- Materialised, refreshed by views.create_views for the chats whose messages or settings changed
-- (`_refresh_chats`): its windows over every message cost some 30 plain passes over `messages`, and most other
-- views and the notebooks read it.

-- Local days (since 1970-01-01) of the accounts with business hours, from a day before their first month to
-- a day after their last month or latest export (waiting_chats measures up to it), whichever is later:
-- B(t), the business seconds before local second t, is open_before of t's day plus the open part of that day.
CREATE OR REPLACE TABLE _business_calendar AS
WITH span AS (
    SELECT account_name, min(month) - DATE '1970-01-01' - 1 AS first_day,
           (max(month) + INTERVAL 1 MONTH)::DATE - DATE '1970-01-01' + 1 AS last_day
    FROM messages
    WHERE account_name IN (SELECT account_name FROM _cfg_accounts WHERE has_business_hours)
    GROUP BY account_name
),
days AS (
    SELECT s.account_name,
           unnest(range(s.first_day, greatest(s.last_day,
               (max(epoch_us(f.downloaded_at)) // 86400000000 + 2)::BIGINT))) AS day
    FROM span s LEFT JOIN source_files f USING (account_name)
    GROUP BY s.account_name, s.first_day, s.last_day
),
hours AS (
    SELECT account_name, isodow, list({'s': start_s, 'e': end_s}) AS ranges, sum(end_s - start_s) AS open_s
    FROM _cfg_business_hours
    GROUP BY ALL
),
opening AS (
    SELECT d.account_name, d.day, CASE WHEN hol.day IS NULL THEN h.ranges END AS ranges,
           CASE WHEN hol.day IS NULL THEN coalesce(h.open_s, 0) ELSE 0 END AS open_s
    FROM days d
    LEFT JOIN hours h ON h.account_name = d.account_name AND h.isodow = (d.day + 3) % 7 + 1  -- day 0 was a Thursday
    LEFT JOIN (SELECT DISTINCT account_name, day - DATE '1970-01-01' AS day FROM _cfg_holidays) hol
        ON hol.account_name = d.account_name AND hol.day = d.day
)
SELECT account_name, day, ranges,
       coalesce(sum(open_s) OVER (PARTITION BY account_name ORDER BY day
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS open_before
FROM opening;

-- B(t) for a local second t, given the calendar row of t's day.
CREATE OR REPLACE MACRO _business_clock(open_before, ranges, local_s) AS
    open_before + coalesce(list_sum(list_transform(ranges,
        lambda x: greatest(0, least(local_s % 86400, x.e) - x.s))), 0);

CREATE OR REPLACE TEMP VIEW _response_times_fresh AS
WITH turns AS (
    SELECT m.account_name, m.chat_name, m.chat_type, m.month, m.sent_at, m.export_seq, m.sender_name,
           m.utc_offset_minutes, m.sender_type = 'user' AS asks,
           lag(m.sender_type = 'user') OVER (PARTITION BY m.account_name, m.chat_name
                                             ORDER BY m.sent_at, m.export_seq) AS before
    FROM messages m
    SEMI JOIN _refresh_chats USING (account_name, chat_name)
    LEFT JOIN _cfg_accounts a USING (account_name)
    WHERE (m.sender_type = 'user' AND m.kind <> 'menu_tap') OR m.sender_type = 'staff'
       OR (m.sender_type = 'api' AND a.api_answers)
),
-- Where asking and answering change, they alternate: each asking row starts an inquiry, the row after answers.
changes AS (
    SELECT account_name, chat_name, chat_type, month, sent_at, export_seq, utc_offset_minutes, asks,
           lead(sent_at) OVER chat AS replied_at,
           lead(sender_name) OVER chat AS replied_by
    FROM turns
    WHERE before IS DISTINCT FROM asks
    WINDOW chat AS (PARTITION BY account_name, chat_name ORDER BY sent_at, export_seq)
),
inquiries AS (
    SELECT c.account_name, c.chat_name, c.chat_type, c.month, c.sent_at AS asked_at, c.export_seq AS asked_seq,
           c.replied_at, (epoch_us(c.replied_at) - epoch_us(c.sent_at)) // 1000000 AS response_seconds,
           c.replied_by, coalesce(c.utc_offset_minutes, 0) AS utc_offset_minutes,
           coalesce(a.has_business_hours, false) AS has_business_hours
    FROM changes c
    LEFT JOIN _cfg_accounts a USING (account_name)
    WHERE c.asks
),
-- seconds since 1970-01-01 00:00 in the question's local time
clocked AS (
    SELECT *, epoch_us(asked_at) // 1000000 + utc_offset_minutes * 60 AS asked_local,
           epoch_us(replied_at) // 1000000 + utc_offset_minutes * 60 AS replied_local
    FROM inquiries
)
SELECT i.account_name, i.chat_name, i.month, i.asked_at, i.replied_at, i.response_seconds,
       CASE WHEN NOT i.has_business_hours THEN i.response_seconds
            ELSE (_business_clock(r.open_before, r.ranges, i.replied_local)
                  - _business_clock(a.open_before, a.ranges, i.asked_local))::BIGINT
       END AS business_seconds,
       i.replied_by,
       -- internal: for the views built on this one
       i.chat_type, i.asked_seq, i.asked_local, i.has_business_hours
FROM clocked i
LEFT JOIN _business_calendar a ON a.account_name = i.account_name AND a.day = i.asked_local // 86400
LEFT JOIN _business_calendar r ON r.account_name = i.account_name AND r.day = i.replied_local // 86400;

-- The refreshed chats' rows replace theirs (a chat no longer in `messages` loses them).
CREATE TABLE IF NOT EXISTS _response_times AS SELECT * FROM _response_times_fresh WITH NO DATA;
DELETE FROM _response_times WHERE (account_name, chat_name) IN (SELECT account_name, chat_name FROM _refresh_chats);
INSERT INTO _response_times SELECT * FROM _response_times_fresh ORDER BY account_name, month, chat_name, asked_at;
DROP VIEW _response_times_fresh;

CREATE OR REPLACE VIEW response_times AS
SELECT account_name, chat_name, month, asked_at, replied_at, response_seconds, business_seconds, replied_by
FROM _response_times;
