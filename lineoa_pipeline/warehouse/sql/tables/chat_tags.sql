/* ---
description: >
  Chat tags from every tags/*.csv, each chat name resolved to the warehouse's.
columns:
  account_name: The account.
  chat_name: The chat, as the warehouse names it (as written when no chat matches).
  tag: The tag.
--- */
CREATE TABLE IF NOT EXISTS chat_tags (
    account_name VARCHAR NOT NULL,
    chat_name    VARCHAR NOT NULL,
    tag          VARCHAR NOT NULL
);
