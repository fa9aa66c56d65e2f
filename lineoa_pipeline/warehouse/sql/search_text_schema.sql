-- Search's side table (history/search.py): the messages whose content is not its own folded form, with
-- that form (`folded`: NFKC, then Python's full case folding) and the columns a search result shows.
CREATE TABLE IF NOT EXISTS _search_text (
    month        DATE NOT NULL,
    message_id   VARCHAR NOT NULL,
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    sender_type  VARCHAR NOT NULL,
    sender_name  VARCHAR NOT NULL,
    sent_at      TIMESTAMPTZ NOT NULL,
    export_seq   BIGINT NOT NULL,
    source_file  VARCHAR NOT NULL,
    utc_offset_minutes INTEGER NOT NULL, -- the message's (messages.utc_offset_minutes): its local time
    content      VARCHAR NOT NULL,
    folded       VARCHAR NOT NULL
);

-- The months `_search_text` has been written for.
CREATE TABLE IF NOT EXISTS _search_months (
    month DATE NOT NULL
);
