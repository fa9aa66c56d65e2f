-- Each account's language and the words its pages show in it (history/labels.py): a date line is
-- `local_day(local, day_parts, weekdays)` (history_macros.sql).
CREATE OR REPLACE TEMP TABLE _account_labels (
    account_name VARCHAR,
    language     VARCHAR,
    day_parts    VARCHAR[],   -- literal text, and fields marked by chr(1)
    weekdays     VARCHAR[],   -- Monday first
    kind_labels  VARCHAR[],   -- what a media card or note says for kinds[i]
    kinds        VARCHAR[],
    not_saved    VARCHAR,     -- a media card whose file is not saved
    not_saved_until VARCHAR   -- the same, with when LINE deletes it in place of {time}
);
