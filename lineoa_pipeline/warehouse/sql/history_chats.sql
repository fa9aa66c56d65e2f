-- One row per chat of `history_messages`: what an account's index lists, and a fingerprint of everything the
-- chat's page shows (its messages with their classes, names and saved files, its tags), so that an
-- unchanged chat is not written again. XOR of per-message hashes: no per-chat string to build.
SELECT h.account_name, h.stored_chat_name, any_value(h.chat_name) AS chat_name, any_value(h.chat_type) AS chat_type,
       count(*) AS messages,
       -- formatted once per chat, not per message
       local_iso(min(h.sent_at), arg_min(h.offset_minutes, (h.sent_at, h.export_seq))) AS first_at,
       local_iso(max(h.sent_at), arg_max(h.offset_minutes, (h.sent_at, h.export_seq))) AS last_at,
       coalesce(any_value(t.tags), []) AS tags,
       concat_ws(':', count(*),
                 bit_xor(hash(h.message_id, h.sender_type, h.sender_name, h.kind, h.chat_type, h.chat_name, h.media_file,
                                h.deletes_at)),
                 md5(array_to_string(coalesce(any_value(t.tags), []), chr(31)))) AS fingerprint
FROM history_messages h
LEFT JOIN (SELECT account_name, chat_name, list(DISTINCT tag ORDER BY tag) AS tags FROM history_tags GROUP BY ALL) t
    ON t.account_name = h.account_name AND t.chat_name = h.stored_chat_name
GROUP BY h.account_name, h.stored_chat_name
ORDER BY h.account_name, h.stored_chat_name
