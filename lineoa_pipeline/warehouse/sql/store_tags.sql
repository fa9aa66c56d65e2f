-- chat_tags anew from tag_rows (tags_media_rows.sql): each tag once per resolved chat.
DELETE FROM chat_tags;

INSERT INTO chat_tags
SELECT DISTINCT t.account_name, resolve_chat(t.chat_name, k.chats), t.tag
FROM tag_rows t LEFT JOIN chat_key_lists k USING (account_name, name_key);
