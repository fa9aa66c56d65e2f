/* ---
description: >
  The reply time as LINE itself computes it for an account's profile, one row per measuring cycle, in
  one-to-one chats only. In message order, a user message of any kind but a menu tap opens a cycle when none
  is open; the cycle spans [start, start + 86,400 s] and the user messages inside it open nothing; the first
  answering message inside it (a staff message, or an api message for an account with api_answers; never an
  auto reply or a broadcast) replies to it. The next cycle opens with the first such user message strictly
  after start + 86,400 s.
reads: [messages]
columns:
  account_name: The account, as its exports name it.
  chat_name: The one-to-one chat.
  month: First day of the local month of started_at.
  started_at: When the user message that opened the cycle was sent.
  replied_at: When the first answering message within 86,400 s was sent; NULL when none was.
  reply_seconds: Seconds from started_at to replied_at (at most 86,400); NULL when unreplied.
--- */
-- Materialised (the chains of cycles need a recursive query): rebuilt by views.create_views with the others.
CREATE OR REPLACE TABLE _line_reply_times AS
WITH RECURSIVE flow AS (
    SELECT m.account_name, m.chat_name, m.month, m.sent_at, epoch_us(m.sent_at) // 1000000 AS s,
           m.sender_type = 'user' AS asks, m.export_seq
    FROM messages m
    LEFT JOIN _cfg_accounts a USING (account_name)
    WHERE m.chat_type = 'one_to_one'
      AND ((m.sender_type = 'user' AND m.kind <> 'menu_tap') OR m.sender_type = 'staff'
           OR (m.sender_type = 'api' AND a.api_answers))
),
-- One sort: each message's place, the first answering message after it (answers' times never decrease in
-- message order, so that is the least time that follows) and the user message before it.
ordered AS (
    SELECT *,
           row_number() OVER earlier AS pos,
           min(CASE WHEN NOT asks THEN sent_at END) OVER (chat ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
               AS next_answer_at,
           max(CASE WHEN asks THEN s END) OVER (chat ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS asked_before
    FROM flow
    WINDOW chat AS (PARTITION BY account_name, chat_name ORDER BY sent_at, export_seq),
           earlier AS (chat ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
),
-- A user message more than 86,400 s after the one before it is after any cycle that one could be in: it
-- opens a cycle (a head).
asks AS MATERIALIZED (
    SELECT account_name, chat_name, month, sent_at, s, pos, next_answer_at,
           asked_before IS NULL OR s - asked_before > 86400 AS head
    FROM ordered
    WHERE asks
),
-- Between two heads (a burst), cycles chain: the next opens with the first user message strictly after
-- start + 86,400 s (the first in message order of its second). Only bursts that last longer than that need
-- the chain: found among the chats with a user message that is not a head.
bursts AS (
    SELECT *, max(CASE WHEN head THEN pos END) OVER (PARTITION BY account_name, chat_name ORDER BY pos
                                                       ROWS UNBOUNDED PRECEDING) AS burst
    FROM asks
    WHERE (account_name, chat_name) IN (SELECT account_name, chat_name FROM asks WHERE NOT head)
),
long_bursts AS (
    SELECT * FROM bursts
    WHERE (account_name, chat_name, burst) IN (
        SELECT account_name, chat_name, burst FROM bursts GROUP BY ALL HAVING max(s) - min(s) > 86400)
),
seconds AS (
    SELECT account_name, chat_name, burst, s, min(pos) AS pos FROM long_bursts GROUP BY ALL
),
successors AS MATERIALIZED (
    SELECT l.account_name, l.chat_name, l.pos, n.pos AS next_pos
    FROM long_bursts l
    ASOF JOIN seconds n
        ON n.account_name = l.account_name AND n.chat_name = l.chat_name AND n.burst = l.burst
       AND l.s + 86400 < n.s
),
chain(account_name, chat_name, pos) AS (
    SELECT account_name, chat_name, pos FROM asks WHERE head
    UNION ALL
    SELECT n.account_name, n.chat_name, n.next_pos FROM chain c JOIN successors n USING (account_name, chat_name, pos)
)
SELECT a.account_name, a.chat_name, a.month, a.sent_at AS started_at,
       CASE WHEN a.next_answer_at <= a.sent_at + INTERVAL 86400 SECOND THEN a.next_answer_at END AS replied_at,
       CASE WHEN a.next_answer_at <= a.sent_at + INTERVAL 86400 SECOND
            THEN (epoch_us(a.next_answer_at) - epoch_us(a.sent_at)) // 1000000 END AS reply_seconds
FROM chain c JOIN asks a USING (account_name, chat_name, pos)
ORDER BY a.account_name, a.month, a.chat_name, a.sent_at;

CREATE OR REPLACE VIEW line_reply_times AS SELECT * FROM _line_reply_times;
