-- The alerts of a check not raised before, each as the line alerts.jsonl gets (json.dumps of its record:
-- ", " and ": " between items, which DuckDB's JSON writer does not write, hence one text column). Follows
-- `media` (retention_media.sql). Placeholders at risk, and those lost: with lost_since (NULL: every lost
-- one), only those lost at or after it, or whose export was ingested after ingested_after. Months come
-- as parallel lists with their lines made by Python (a few per account). An alert whose account, subject,
-- month or placeholder and level are in the raised file (alerts.jsonl, read with explicit columns, a
-- damaged line skipped) is left out, as alerts.alert_key keys it. Worst first: lost before at risk, then by
-- cutoff and account; at a tie a month before a placeholder, months in the order given, placeholders by
-- chat and export order.
, placeholders AS (
    SELECT account_name, chat_name, message_id, kind, status, export_seq, expires_at, offset_text,
           local_ts(sent_at, offset_minutes) AS local_sent,
           local_ts(expires_at, offset_minutes) AS local_expires
    FROM media
    WHERE status = 'at_risk'
       OR (status = 'lost' AND ($lost_since IS NULL OR expires_at >= $lost_since
           OR source_file IN (SELECT file_path FROM source_files WHERE ingested_at > $ingested_after)))
),
candidates AS (
    SELECT unnest($month_accounts::VARCHAR[]) AS account_name,
           'month' AS subject,
           unnest($month_keys::VARCHAR[]) AS key,
           unnest($month_levels::VARCHAR[]) AS level,
           unnest($month_cutoffs::TIMESTAMPTZ[]) AS cutoff_at,
           generate_subscripts($month_keys::VARCHAR[], 1) AS month_order,
           unnest($month_lines::VARCHAR[]) AS line,
           NULL::VARCHAR AS chat_name, NULL::VARCHAR AS kind, NULL::BIGINT AS export_seq, NULL::VARCHAR AS offset_text,
           NULL::TIMESTAMP AS local_sent, NULL::TIMESTAMP AS local_expires
    UNION ALL
    SELECT account_name, 'media', message_id, status, expires_at, NULL, NULL, chat_name, kind, export_seq,
           offset_text, local_sent, local_expires
    FROM placeholders
),
raised AS (
    SELECT account_name, subject, level,
           coalesce(nullif(month, ''), nullif(message_id, ''),
                    coalesce(chat_name, 'None') || '|' || coalesce(sent_at, 'None')) AS key
    FROM read_ndjson($raised,
                     columns = {account_name: 'VARCHAR', subject: 'VARCHAR', month: 'VARCHAR',
                                message_id: 'VARCHAR', chat_name: 'VARCHAR', sent_at: 'VARCHAR',
                                level: 'VARCHAR'},
                     ignore_errors = true)
),
new AS (  -- only what is new gets its line made
    SELECT * FROM candidates c
    WHERE NOT EXISTS (
        SELECT 1 FROM raised r
        WHERE r.account_name = c.account_name AND r.subject = c.subject AND r.key = c.key AND r.level = c.level
    )
)
SELECT coalesce(
    line,
    '{"at": ' || $at
    || ', "account_name": ' || json_text(account_name)
    || ', "subject": "media", "chat_name": ' || json_text(chat_name)
    || ', "sent_at": "' || iso_time(local_sent, offset_text)
    || '", "message_id": ' || json_text(key)
    || ', "kind": ' || json_text(kind)
    || ', "level": "' || level
    || '", "cutoff_at": "' || iso_time(local_expires, offset_text)
    || '", "final_at": "' || iso_time(local_expires, offset_text)
    || '", "message": ' || json_text(
        account_name || ': the ' || kind || ' sent in ' || coalesce(chat_name, 'None') || ' at '
        || short_time(local_sent, offset_text)
        || CASE
            WHEN level = 'lost'
                THEN ' was never saved, and LINE deleted it at ' || short_time(local_expires, offset_text) || '.'
            ELSE ' is not saved; LINE deletes it at ' || short_time(local_expires, offset_text) || '. Save it now.'
        END
    ) || '}'
) AS line
FROM new
ORDER BY level <> 'lost', cutoff_at, account_name, subject <> 'month', month_order, chat_name, export_seq, key
