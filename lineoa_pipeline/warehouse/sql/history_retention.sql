-- How long LINE keeps each media kind, per account and chat type (days, from the settings), as the temp
-- table `history_retention`: a transcript shows when LINE deletes a placeholder not saved.
-- Values come in as literals (history/reader.py), so no parameter name may appear in a comment.
CREATE OR REPLACE TEMP TABLE history_retention AS
SELECT unnest($accounts)::VARCHAR AS account_name, unnest($chat_types)::VARCHAR AS chat_type,
       unnest($kinds)::VARCHAR AS kind, unnest($days)::BIGINT AS days
