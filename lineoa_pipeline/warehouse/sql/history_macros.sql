-- Local time, for every reader of the history: the UTC offset of the file that first stored the message
-- (`messages.utc_offset_minutes`), as `messages.month` uses. Temp macros, so they work on the read-only snapshot too.
-- The offset is added to the instant's microseconds: no time-zone conversion per row (ICU's `AT TIME ZONE`
-- costs thirty times as much, ~0.9 s per 5M messages).
CREATE OR REPLACE TEMP MACRO local_ts(sent_at, offset_minutes) AS
    make_timestamp(epoch_us(sent_at) + offset_minutes::BIGINT * 60000000);

-- An offset in minutes as ISO 8601 writes it, e.g. +09:00: a whole hour (every market of LINE's) from a
-- list, as building the text per row costs four times as much; any other offset built.
CREATE OR REPLACE TEMP MACRO offset_iso(offset_minutes) AS
    CASE WHEN offset_minutes % 60 = 0 AND offset_minutes BETWEEN -720 AND 840
         THEN ['-12:00', '-11:00', '-10:00', '-09:00', '-08:00', '-07:00', '-06:00', '-05:00', '-04:00', '-03:00',
               '-02:00', '-01:00', '+00:00', '+01:00', '+02:00', '+03:00', '+04:00', '+05:00', '+06:00', '+07:00',
               '+08:00', '+09:00', '+10:00', '+11:00', '+12:00', '+13:00', '+14:00'][offset_minutes // 60 + 13]
         ELSE CASE WHEN offset_minutes < 0 THEN '-' ELSE '+' END
              || lpad((abs(offset_minutes) // 60)::VARCHAR, 2, '0') || ':' || lpad((abs(offset_minutes) % 60)::VARCHAR, 2, '0')
    END;

-- ISO 8601 with the file's offset, e.g. 2026-02-27T23:59:58+09:00.
CREATE OR REPLACE TEMP MACRO local_iso(sent_at, offset_minutes) AS
    strftime(local_ts(sent_at, offset_minutes), '%Y-%m-%dT%H:%M:%S') || offset_iso(offset_minutes);

-- A name column equal to `wanted`, a NUL inside included: a lake pushes `value = wanted` down to its
-- catalog as text, which a NUL cuts short, so such a name compares as bytes (never pushed down). The CASE
-- folds away, and any other name is still pushed down.
CREATE OR REPLACE TEMP MACRO name_is(value, wanted) AS
    CASE WHEN contains(wanted, chr(0)) THEN encode(value) = encode(wanted) ELSE value = wanted END;

-- The chats a reader's filters select: `account` exactly, `chat_key` by the name key (NFKC, no white space
-- or brackets, as `_chat_keys` holds it); NULL selects every one.
CREATE OR REPLACE TEMP MACRO chat_selected(account, chat, want_account, want_key) AS
    (want_account IS NULL OR name_is(account, want_account))
    AND (want_key IS NULL OR (account, chat) IN (SELECT (account_name, chat_name) FROM _chat_keys WHERE name_key = want_key));

-- A date line in an account's language (`_account_labels`, from Babel: history/labels.py): the pattern's
-- literal text and its fields (chr(1) then y, M, MM, d, dd or E), `weekdays` Monday first.
CREATE OR REPLACE TEMP MACRO local_day(local, parts, weekdays) AS
    array_to_string(list_transform(parts, p -> CASE p
        WHEN chr(1) || 'y' THEN year(local)::VARCHAR
        WHEN chr(1) || 'M' THEN month(local)::VARCHAR
        WHEN chr(1) || 'MM' THEN lpad(month(local)::VARCHAR, 2, '0')
        WHEN chr(1) || 'd' THEN day(local)::VARCHAR
        WHEN chr(1) || 'dd' THEN lpad(day(local)::VARCHAR, 2, '0')
        WHEN chr(1) || 'E' THEN weekdays[isodow(local)]
        ELSE p END), '');

-- `from_date` and `to_date` inclusive local dates; NULL leaves that side open. A message's `month` is that of
-- its local time, and is tested first: DuckDB filters that column in the scan, before any local time is computed.
CREATE OR REPLACE TEMP MACRO in_dates(month, local, from_date, to_date) AS
    (from_date IS NULL OR (month >= date_trunc('month', from_date)::DATE AND local::DATE >= from_date))
    AND (to_date IS NULL OR (month <= to_date AND local::DATE <= to_date));

-- Text as HTML shows it, never as markup (element content and quoted attribute values alike). Most texts hold
-- none of the five characters and go out as they are: looking costs an eighth of the five replaces.
CREATE OR REPLACE TEMP MACRO html_escape(text) AS
    CASE WHEN contains(text, '&') OR contains(text, '<') OR contains(text, '>') OR contains(text, '"') OR contains(text, '''')
         THEN replace(replace(replace(replace(replace(text, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
         ELSE text
    END;

-- A spreadsheet reads a CSV value that starts with =, +, -, @, a tab or a line break as a formula: with
-- `enabled`, such a value gets a leading ' (as LINE's own exports do).
CREATE OR REPLACE TEMP MACRO guard(text, enabled) AS
    CASE WHEN enabled AND regexp_matches(text, '^[=+\-@\t\r\n]') THEN '''' || text ELSE text END;

-- A value as one POSIX shell word: in single quotes, each single quote inside closed, escaped and reopened.
CREATE OR REPLACE TEMP MACRO shell_quote(value) AS '''' || replace(value, '''', '''\''''') || '''';
