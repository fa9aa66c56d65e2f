-- media_files anew from media_rows (tags_media_rows.sql): which files save which placeholder messages.
-- One file per placeholder: within one account, chat, kind and second, the manifest rows (ok first, then by
-- manifest and line) pair in turn with the placeholder messages in export order. A file listed twice for
-- one second (overlapping manifests) is one file, not two photos: only its first listing (ok first) is
-- stored, and reported as a duplicate; a second row would pair with no placeholder or with another's.
DELETE FROM media_files;

INSERT INTO media_files
WITH resolved AS (
    SELECT m.* EXCLUDE (chat_name), resolve_chat(m.chat_name, k.chats) AS chat_name,
           date_trunc('second', m.sent_at) AS second
    FROM media_rows m LEFT JOIN chat_key_lists k USING (account_name, name_key)
),
distinct_files AS (
    SELECT * FROM resolved
    QUALIFY row_number() OVER (PARTITION BY account_name, chat_name, kind, second, file
                               ORDER BY verification <> 'ok', manifest, line) = 1
),
numbered AS (  -- after the repeats are gone: n must run 1, 2, ... to meet the placeholders' n
    SELECT *, row_number() OVER (PARTITION BY account_name, chat_name, kind, second
                                 ORDER BY verification <> 'ok', manifest, line) AS n
    FROM distinct_files
),
placeholders AS (
    SELECT message_id, account_name, chat_name, kind, sent_at AS second,
           row_number() OVER (PARTITION BY account_name, chat_name, kind, sent_at ORDER BY export_seq) AS n
    FROM messages
    SEMI JOIN (SELECT DISTINCT account_name, chat_name, kind, second AS sent_at FROM resolved)
        USING (account_name, chat_name, kind, sent_at)
)
SELECT f.account_name, f.chat_name, f.sent_at, f.kind, f.file, f.sha256, f.bytes, f.verification, p.message_id
FROM numbered f LEFT JOIN placeholders p USING (account_name, chat_name, kind, second, n);
