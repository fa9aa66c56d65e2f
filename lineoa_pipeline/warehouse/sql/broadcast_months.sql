-- Mark stale the months a pending month's messages may turn broadcasts in: a month not pending that holds an
-- api message within the broadcast window of an api message of a pending month (same account, same
-- content). A new file can make a broadcast of a message in a month it does not touch (sent at 23:59 on the
-- 31st, received after midnight), and classification must equal a rebuild's. Only contents sent to enough
-- chats at all are looked at, by one window over them (no pairwise join: a broadcast may reach 50,000 chats).
CREATE OR REPLACE TEMP TABLE broadcast_stale AS
WITH api AS (
    SELECT m.account_name, m.chat_name, m.content, m.month, epoch_us(m.sent_at) AS us,
           a.broadcast_window_minutes::BIGINT * 60000000 AS window_us, a.broadcast_min_chats AS min_chats,
           m.month IN (SELECT month FROM _pending_months) AS pending
    FROM messages m
    JOIN _cfg_sender_roles r ON r.account_name = m.account_name AND r.sender_name = m.sender_name
                            AND r.sender_type = 'api'
    JOIN _cfg_accounts a ON a.account_name = m.account_name
    WHERE m.sender_type <> 'user'
),
repeated AS (
    SELECT account_name, content FROM api
    GROUP BY ALL
    HAVING count(DISTINCT chat_name) >= any_value(min_chats) AND bool_or(pending) AND NOT bool_and(pending)
),
near AS (
    SELECT month, pending,
           count(*) FILTER (WHERE pending) OVER (PARTITION BY account_name, content ORDER BY us
               RANGE BETWEEN window_us PRECEDING AND window_us FOLLOWING) AS pending_near
    FROM api SEMI JOIN repeated USING (account_name, content)
)
SELECT DISTINCT month FROM near WHERE NOT pending AND pending_near > 0;

-- Inserted from the temp table rather than with RETURNING, which a lake's tables do not support.
INSERT INTO _pending_months SELECT month FROM broadcast_stale;
