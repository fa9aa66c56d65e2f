-- Settings the SQL needs, resolved per account by Python and rewritten before each use.
CREATE OR REPLACE TABLE _cfg_sender_roles (account_name VARCHAR, sender_name VARCHAR, sender_type VARCHAR);
CREATE OR REPLACE TABLE _cfg_placeholders (account_name VARCHAR, content VARCHAR, kind VARCHAR);
CREATE OR REPLACE TABLE _cfg_chat_types (account_name VARCHAR, name_key VARCHAR, chat_type VARCHAR);
-- broadcast_*: an `api` message is a broadcast when its content reaches broadcast_min_chats chats within
-- broadcast_window_minutes; api_answers: `api` messages answer inquiries (the views read it).
CREATE OR REPLACE TABLE _cfg_accounts (
    account_name VARCHAR, sla_minutes INTEGER, has_business_hours BOOLEAN, api_answers BOOLEAN,
    broadcast_min_chats INTEGER, broadcast_window_minutes INTEGER
);
-- The rich-menu texts, NFKC-normalised (DuckDB has no NFKC: Python normalises both sides).
CREATE OR REPLACE TABLE _cfg_menu_texts (account_name VARCHAR, nfkc_content VARCHAR);
-- isodow 1 = Monday; seconds since local midnight, half-open [start_s, end_s)
CREATE OR REPLACE TABLE _cfg_business_hours (account_name VARCHAR, isodow INTEGER, start_s INTEGER, end_s INTEGER);
CREATE OR REPLACE TABLE _cfg_holidays (account_name VARCHAR, day DATE);

-- Per account, one hash of the settings that classify messages (sender roles, placeholder texts, chat
-- types, menu texts, what makes a broadcast): a month of `messages` written under another hash is stale
-- (`_written_months`).
CREATE OR REPLACE VIEW _cfg_classification AS
SELECT account_name, md5(string_agg(item, chr(30) ORDER BY item)) AS settings_hash
FROM (
    SELECT account_name, concat_ws(chr(31), 'role', sender_name, sender_type) AS item FROM _cfg_sender_roles
    UNION ALL SELECT account_name, concat_ws(chr(31), 'placeholder', content, kind) FROM _cfg_placeholders
    UNION ALL SELECT account_name, concat_ws(chr(31), 'chat type', name_key, chat_type) FROM _cfg_chat_types
    UNION ALL SELECT account_name, concat_ws(chr(31), 'menu text', nfkc_content) FROM _cfg_menu_texts
    UNION ALL SELECT account_name, concat_ws(chr(31), 'broadcast', broadcast_min_chats, broadcast_window_minutes)
              FROM _cfg_accounts
)
GROUP BY account_name;
