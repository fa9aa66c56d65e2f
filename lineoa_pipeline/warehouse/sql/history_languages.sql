-- Every account with the UI language of its latest export that recorded one (NULL when none did: a warehouse
-- from before files recorded their language, until a rebuild): the language of its pages and exports.
SELECT s.account_name, arg_max(o.ui_language, s.downloaded_at) FILTER (WHERE o.ui_language IS NOT NULL) AS ui_language
FROM source_files s
JOIN _file_offsets o USING (file_path)
GROUP BY s.account_name
ORDER BY s.account_name
