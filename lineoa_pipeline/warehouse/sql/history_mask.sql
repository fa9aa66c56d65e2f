-- Masking for sharing (history/mask.py): phone numbers, e-mail addresses and URLs by fixed texts, then every
-- spelling of the chat's customers' names (`spellings`: 'alias<US>name', longest names first) by an alias.
CREATE OR REPLACE TEMP MACRO mask_pii(text) AS
    regexp_replace(
        regexp_replace(
            regexp_replace(text, '(?i)(?:https?://|www\.)[^\s<>"''、。「」]+', '[URL]', 'g'),
            '[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+', '[メール]', 'g'),
        '(?:\+81[\-\s]?|\b0)[0-9]{1,4}[\-\s‐－]?[0-9]{1,4}[\-\s‐－]?[0-9]{3,4}\b', '[電話]', 'g');

CREATE OR REPLACE TEMP MACRO mask_text(text, spellings) AS
    list_reduce(
        list_prepend(mask_pii(text), coalesce(spellings, [])),
        (acc, pair) -> replace(acc, split_part(pair, chr(31), 2), split_part(pair, chr(31), 1))
    );

CREATE OR REPLACE TEMP TABLE _mask_names (account_name VARCHAR, name VARCHAR, alias VARCHAR);
CREATE OR REPLACE TEMP TABLE _mask_chats (account_name VARCHAR, chat_name VARCHAR, alias VARCHAR, spellings VARCHAR[]);
