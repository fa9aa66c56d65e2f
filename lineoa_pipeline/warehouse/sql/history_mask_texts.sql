-- What history/mask.py masks the texts of the selection with, and those texts.
-- Each account's customers: name key -> alias (every chat of the account, not only the selected ones).
SELECT account_name, name_key, any_value(alias) FROM _mask_names GROUP BY ALL;

-- Each account's UTC offset (that of its latest export): the region of its domestic phone numbers.
SELECT account_name, utc_offset_minutes FROM _account_zones;

-- Every distinct text the selection shows: message contents and the selected chats' tags.
SELECT DISTINCT account_name, content FROM _history_chosen
UNION
SELECT t.account_name, t.tag FROM chat_tags t
WHERE (t.account_name, t.chat_name) IN (SELECT (account_name, chat_name) FROM _history_chosen);
