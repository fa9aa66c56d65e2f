-- What the alert queries write, byte for byte as Python would: temp macros, so they work on the read-only
-- snapshot too.

-- A string as a JSON value the way json.dumps(ensure_ascii=False) writes it: only quotes, backslashes and
-- control characters escaped, those without a short form as \u00xx in lowercase (DuckDB's to_json writes
-- uppercase). Most strings hold none of them and go out as they are.
CREATE OR REPLACE TEMP MACRO json_text(s) AS
    CASE
        WHEN s IS NULL THEN 'null'
        WHEN NOT regexp_matches(s, '[\x00-\x1f"\\]') THEN '"' || s || '"'
        ELSE '"' || array_to_string(list_transform(string_split(s, ''), c -> CASE
            WHEN c = '"' THEN '\"'
            WHEN c = '\' THEN '\\'
            WHEN c = chr(8) THEN '\b'
            WHEN c = chr(9) THEN '\t'
            WHEN c = chr(10) THEN '\n'
            WHEN c = chr(12) THEN '\f'
            WHEN c = chr(13) THEN '\r'
            WHEN ord(c) < 32 THEN printf('\u%04x', ord(c))
            ELSE c
        END), '') || '"'
    END;

-- A local time and its offset text ("+09:00") as datetime.isoformat() writes them: the microseconds only
-- when there are any, e.g. 2025-01-09T13:32:00+09:00 or 2025-01-09T13:32:00.000500+09:00.
CREATE OR REPLACE TEMP MACRO iso_time(local, offset_text) AS
    strftime(local, '%Y-%m-%dT%H:%M:%S')
    || CASE
        WHEN epoch_us(local) % 1000000 = 0 THEN ''
        ELSE '.' || lpad(((epoch_us(local) % 1000000 + 1000000) % 1000000)::VARCHAR, 6, '0')
    END
    || offset_text;

-- The same to the minute, as the alerts' messages show it: 2025-01-09 13:32 +09:00.
CREATE OR REPLACE TEMP MACRO short_time(local, offset_text) AS
    strftime(local, '%Y-%m-%d %H:%M ') || offset_text;
