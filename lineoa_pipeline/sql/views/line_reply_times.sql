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
           m.sender_type = 'user' AS asks,
           row_number() OVER (PARTITION BY m.account_name, m.chat_name ORDER BY m.sent_at, m.export_seq) AS pos
    FROM messages m
    LEFT JOIN _cfg_accounts a USING (account_name)
    WHERE m.chat_type = 'one_to_one'
      AND ((m.sender_type = 'user' AND m.kind <> 'menu_tap') OR m.sender_type = 'staff'
           OR (m.sender_type = 'api' AND a.api_answers))
),
-- Each user message with the first answering message after it (answers' times never decrease in message
-- order, so that is the least time that follows), and its gap to the user message before it.
asks AS MATERIALIZED (
    SELECT row_number() OVER (ORDER BY account_name, chat_name, pos) AS id, *,
           s - lag(s) OVER (PARTITION BY account_name, chat_name ORDER BY pos) AS gap
    FROM (
        SELECT *, min(CASE WHEN NOT asks THEN sent_at END) OVER (PARTITION BY account_name, chat_name ORDER BY pos
                      ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_answer_at
        FROM flow
    )
    WHERE asks
),
-- A user message more than 86,400 s after the one before it is after any cycle that one could be in: it
-- opens a cycle. Between two such heads (a burst), cycles chain: the next opens with the first user message
-- strictly after start + 86,400 s (the first in message order of its second).
bursts AS (
    SELECT *, sum((gap IS NULL OR gap > 86400)::INTEGER) OVER (PARTITION BY account_name, chat_name ORDER BY pos)
              AS burst
    FROM asks
),
long_bursts AS (
    SELECT * FROM bursts
    WHERE (account_name, chat_name, burst) IN (
        SELECT account_name, chat_name, burst FROM bursts GROUP BY ALL HAVING max(s) - min(s) > 86400)
),
seconds AS (
    SELECT account_name, chat_name, burst, s, arg_min(id, pos) AS id FROM long_bursts GROUP BY ALL
),
successors AS MATERIALIZED (
    SELECT l.id, n.id AS next_id
    FROM long_bursts l
    ASOF JOIN seconds n
        ON n.account_name = l.account_name AND n.chat_name = l.chat_name AND n.burst = l.burst
       AND l.s + 86400 < n.s
),
chain(id) AS (
    SELECT id FROM bursts WHERE gap IS NULL OR gap > 86400
    UNION ALL
    SELECT n.next_id FROM chain c JOIN successors n USING (id)
)
SELECT a.account_name, a.chat_name, a.month, a.sent_at AS started_at,
       CASE WHEN a.next_answer_at <= a.sent_at + INTERVAL 86400 SECOND THEN a.next_answer_at END AS replied_at,
       CASE WHEN a.next_answer_at <= a.sent_at + INTERVAL 86400 SECOND
            THEN (epoch_us(a.next_answer_at) - epoch_us(a.sent_at)) // 1000000 END AS reply_seconds
FROM chain c JOIN asks a USING (id)
ORDER BY a.account_name, a.month, a.chat_name, a.sent_at;

CREATE OR REPLACE VIEW line_reply_times AS SELECT * FROM _line_reply_times;
