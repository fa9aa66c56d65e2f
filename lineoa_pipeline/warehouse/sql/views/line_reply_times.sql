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
-- Materialised, refreshed by views.create_views for the chats whose messages or settings changed
-- (`_refresh_chats`, as `_response_times`). The chains of cycles are found by a scan in
-- Python (warehouse/cycles.py, `_reply_cycle_starts`) over the asks in order, linear whatever the chats' shapes.
CREATE OR REPLACE TEMP TABLE _reply_asks AS
WITH flow AS (
    SELECT m.account_name, m.chat_name, m.month, m.sent_at, m.export_seq, m.sender_type = 'user' AS asks
    FROM messages m
    SEMI JOIN _refresh_chats USING (account_name, chat_name)
    LEFT JOIN _cfg_accounts a USING (account_name)
    WHERE m.chat_type = 'one_to_one'
      AND ((m.sender_type = 'user' AND m.kind <> 'menu_tap') OR m.sender_type = 'staff'
           OR (m.sender_type = 'api' AND a.api_answers))
),
-- One sort: the first answering message after each message (answers' times never decrease in message order,
-- so that is the least time that follows).
ordered AS (
    SELECT *,
           min(CASE WHEN NOT asks THEN sent_at END) OVER (
               PARTITION BY account_name, chat_name ORDER BY sent_at, export_seq
               ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS next_answer_at
    FROM flow
)
-- Every ask in message order (pos), its chat numbered, its second, and the reach of the cycle it would open:
-- the next cycle opens with the first ask strictly after start + 86,400 s.
SELECT account_name, chat_name, month, sent_at, next_answer_at,
       row_number() OVER (ORDER BY account_name, chat_name, sent_at, export_seq) - 1 AS pos,
       dense_rank() OVER (ORDER BY account_name, chat_name) AS chat,
       epoch_us(sent_at) // 1000000 AS s,
       epoch_us(sent_at) // 1000000 + 86400 AS reach
FROM ordered
WHERE asks;

CREATE OR REPLACE TEMP VIEW _line_reply_times_fresh AS
SELECT a.account_name, a.chat_name, a.month, a.sent_at AS started_at,
       CASE WHEN a.next_answer_at <= a.sent_at + INTERVAL 86400 SECOND THEN a.next_answer_at END AS replied_at,
       CASE WHEN a.next_answer_at <= a.sent_at + INTERVAL 86400 SECOND
            THEN (epoch_us(a.next_answer_at) - epoch_us(a.sent_at)) // 1000000 END AS reply_seconds
FROM _reply_asks a
SEMI JOIN (
    -- A call per 1,024 chats (the scan's positions are within its lists): a chat's asks stay in one call, and
    -- the lists Python holds at once stay small whatever the account's size.
    SELECT unnest(list_select(
               list(pos ORDER BY pos),
               list_transform(
                   _reply_cycle_starts(list(chat ORDER BY pos), list(s ORDER BY pos), list(reach ORDER BY pos)),
                   lambda i: i + 1))) AS pos
    FROM _reply_asks
    GROUP BY chat // 1024
) c USING (pos);

CREATE TABLE IF NOT EXISTS _line_reply_times AS SELECT * FROM _line_reply_times_fresh WITH NO DATA;
DELETE FROM _line_reply_times WHERE (account_name, chat_name) IN (SELECT account_name, chat_name FROM _refresh_chats);
INSERT INTO _line_reply_times SELECT * FROM _line_reply_times_fresh ORDER BY account_name, month, chat_name, started_at;
DROP VIEW _line_reply_times_fresh;
DROP TABLE _reply_asks;

CREATE OR REPLACE VIEW line_reply_times AS SELECT * FROM _line_reply_times;
