-- The rows Python read from tags/*.csv and the media manifests (checked, each chat name with its name_key),
-- and how a chat name they give resolves: to itself when the account has that chat, else to the account's
-- first chat with its key, else it stays as written.
CREATE OR REPLACE TEMP TABLE tag_rows (account_name VARCHAR, chat_name VARCHAR, name_key VARCHAR, tag VARCHAR);

CREATE OR REPLACE TEMP TABLE media_rows (
    account_name VARCHAR, chat_name VARCHAR, name_key VARCHAR, sent_at TIMESTAMPTZ, kind VARCHAR, file VARCHAR,
    sha256 VARCHAR, bytes BIGINT, verification VARCHAR, manifest VARCHAR, line BIGINT
);

CREATE OR REPLACE TEMP TABLE chat_key_lists AS
SELECT account_name, name_key, list(chat_name ORDER BY chat_name) AS chats FROM _chat_keys GROUP BY ALL;

CREATE OR REPLACE TEMP MACRO resolve_chat(name, chats) AS
    coalesce(CASE WHEN list_contains(chats, name) THEN name END, chats[1], name);
