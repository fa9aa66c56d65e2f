-- The digest of a file of alert records (lines as alerts.jsonl holds them, a damaged one skipped): a row
-- per account and level, lost first, with what `digest.LevelDigest` holds; an account with records of
-- neither level gets one row with a NULL level. A tie goes to the record that comes first in the file, as
-- counting in file order would: kinds and chats by count then first appearance, the deadline (when LINE
-- deleted the first lost one, or starts deleting the first at risk) and the soonest items by cutoff, then
-- month, then place in the file.
WITH records AS (
    SELECT ordinality AS n, account_name, subject, level, month, coalesce(nullif(kind, ''), 'file') AS kind,
           chat_name, left(coalesce(sent_at, 'None'), 10) AS sent_day, cutoff_at::TIMESTAMPTZ AS cutoff_at,
           CASE WHEN level = 'lost' THEN final_at ELSE cutoff_at END AS due
    FROM read_ndjson($path,
                     columns = {account_name: 'VARCHAR', subject: 'VARCHAR', level: 'VARCHAR', month: 'VARCHAR',
                                kind: 'VARCHAR', chat_name: 'VARCHAR', sent_at: 'VARCHAR', cutoff_at: 'VARCHAR',
                                final_at: 'VARCHAR'},
                     ignore_errors = true) WITH ORDINALITY
    WHERE account_name IS NOT NULL  -- a damaged line reads as a row of NULLs
),
shown AS (SELECT * FROM records WHERE level IN ('lost', 'at_risk')),
levels AS (
    SELECT account_name, level, count(*) AS count,
           coalesce(list(month ORDER BY month) FILTER (WHERE subject = 'month'), []) AS months,
           min(sent_day) FILTER (WHERE subject IS DISTINCT FROM 'month') AS first_sent,
           max(sent_day) FILTER (WHERE subject IS DISTINCT FROM 'month') AS last_sent,
           first(due ORDER BY due::TIMESTAMPTZ, n) AS deadline
    FROM shown
    GROUP BY account_name, level
),
tallies AS (  -- media per kind and per chat, each list most first (ties: in the file's order)
    SELECT account_name, level,
           list({'name': kind, 'count': count} ORDER BY count DESC, first) FILTER (WHERE by_kind) AS kinds,
           list({'name': chat_name, 'count': count} ORDER BY count DESC, first) FILTER (WHERE NOT by_kind) AS chats
    FROM (
        SELECT account_name, level, kind, chat_name, count(*) AS count, min(n) AS first,
               grouping(chat_name) = 1 AS by_kind
        FROM shown WHERE subject IS DISTINCT FROM 'month'
        GROUP BY GROUPING SETS ((account_name, level, kind), (account_name, level, chat_name))
    )
    GROUP BY account_name, level
),
soonest AS (
    SELECT account_name, level,
           min_by(n, {'cutoff_at': cutoff_at, 'month': coalesce(month, ''), 'n': n}, $items_shown) AS items
    FROM shown
    GROUP BY account_name, level
),
items AS (  -- the soonest few as the file holds them: a second read keeps only their lines
    SELECT account_name, level, list(o.json ORDER BY i.rank) AS items
    FROM (SELECT account_name, level, unnest(items) AS n, generate_subscripts(items, 1) AS rank FROM soonest) i
    JOIN (
        SELECT ordinality AS n, json FROM read_ndjson_objects($path, ignore_errors = true) WITH ORDINALITY
        WHERE ordinality IN (SELECT unnest(items) FROM soonest)
    ) o USING (n)
    GROUP BY account_name, level
)
SELECT a.account_name, l.level, l.count, l.months, k.kinds, k.chats, l.first_sent, l.last_sent, l.deadline,
       i.items, (SELECT count(*) FROM records) AS records
FROM (SELECT DISTINCT account_name FROM records) a
LEFT JOIN levels l ON l.account_name = a.account_name
LEFT JOIN tallies k ON k.account_name = l.account_name AND k.level = l.level
LEFT JOIN items i ON i.account_name = l.account_name AND i.level = l.level
ORDER BY a.account_name, l.level <> 'lost'
