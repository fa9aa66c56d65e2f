-- Every month written under other classification settings (sender roles, placeholder texts, chat types) than
-- those in _cfg_classification now becomes stale, so that a change of lineoa.toml reaches all of history.
INSERT INTO _pending_months
SELECT DISTINCT w.month FROM _written_months w LEFT JOIN _cfg_classification c USING (account_name)
WHERE w.settings_hash IS DISTINCT FROM c.settings_hash;
