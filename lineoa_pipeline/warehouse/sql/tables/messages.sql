/* ---
description: >
  One row per distinct message: the same message in several exports is stored once. Writing a month classifies
  its rows (sender_type, kind, chat_type) by the current settings.
columns:
  message_id: 'The message''s identity: md5 of account, chat, sender type as written, sent_at, content and n (the
    rows of one file alike in all of those, numbered in file order).'
  account_name: The LINE Official Account, as its exports name it.
  chat_name: The chat, as the export's file name names it.
  chat_type: one_to_one, or group when an export of the chat lists two or more user sender names (lineoa.toml can
    override per chat).
  sender_type: user, staff, auto_reply (an auto-reply name), api (a Messaging API sender name) or broadcast (an
    api message sent to many chats at once).
  sender_name: The sender's display name as the export writes it.
  sent_at: When it was sent (the export's local time at its UTC offset).
  month: First day of the local month of sent_at (the partition).
  kind: 'text, menu_tap (a user text that is one of the account''s menu_texts), or from a placeholder text: photo,
    video, sticker, voice, file, location or unsent.'
  content: The message text (for media, the placeholder text LINE writes).
  source_file: The export that first stored this message.
  export_seq: 'Export order within the account (its messages numbered as they were staged): ties in sent_at are
    ordered by it.'
  utc_offset_minutes: 'UTC offset of the export that first stored it (its time-zone row), in minutes: its local
    time in every view and read-back.'
--- */
CREATE TABLE IF NOT EXISTS messages (
    message_id   VARCHAR NOT NULL,
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    chat_type    VARCHAR NOT NULL,
    sender_type  VARCHAR NOT NULL,
    sender_name  VARCHAR NOT NULL,
    sent_at      TIMESTAMPTZ NOT NULL,
    month        DATE NOT NULL,
    kind         VARCHAR NOT NULL,
    content      VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,
    export_seq   BIGINT NOT NULL,
    utc_offset_minutes INTEGER NOT NULL
);
