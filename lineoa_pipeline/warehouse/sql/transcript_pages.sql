-- The chat pages of one batch of `_pages` (history/html.py): each chat's messages as LINE draws them, in
-- message order: the customer on the left, the account on the right with the sender's name, a line per
-- local date, media placeholders as cards that link the saved file, every word in the account's language
-- (`_account_labels`; a date line is written only where a day begins). Every text is HTML-escaped here.
-- Values come in as literals (history/reader.py), so no parameter name may appear in a comment.
WITH rows AS (
    SELECT h.*, p.page,
           h.local::DATE IS DISTINCT FROM lag(h.local::DATE) OVER chat AS new_day
    FROM history_messages h
    JOIN _pages p ON p.account_name = h.account_name AND p.chat_name = h.stored_chat_name AND p.batch = $batch
    WINDOW chat AS (PARTITION BY h.account_name, h.stored_chat_name ORDER BY h.sent_at, h.export_seq)
),
bubbles AS (
    -- concat() builds each bubble at once (a chain of || copies it at every step), and skips a NULL part: a
    -- date line only where a day begins, an avatar only for the customer
    SELECT page, account_name, chat_name, chat_type, sent_at, export_seq,
        concat(
            CASE WHEN new_day
                 THEN concat('<div class="date"><span>', local_day(local, l.day_parts, l.weekdays), '</span></div>') END,
            '<div class="msg ', CASE WHEN sender_type = 'user' THEN 'them' ELSE 'me' END,
            '" data-sender-type="', sender_type, '">',
            CASE WHEN sender_type = 'user' THEN concat('<div class="avatar">', html_escape(left(sender_name, 1)), '</div>') END,
            '<div class="body"><div class="name">', html_escape(sender_name), '</div><div class="row">',
            CASE
               WHEN kind IN ('photo', 'video', 'voice', 'file') THEN
                   '<div class="bubble card ' || kind || '"><span class="icon">'
                   || CASE kind WHEN 'photo' THEN '🖼' WHEN 'video' THEN '🎬' WHEN 'voice' THEN '🎤' ELSE '📄' END
                   || '</span><span class="what">' || l.kind_labels[list_position(l.kinds, kind)]
                   || CASE WHEN media_file IS NOT NULL
                               THEN '<a href="' || $media_href || replace(url_encode(media_file), '%2F', '/') || '">'
                                    || html_escape(media_file) || '</a></span>'
                           WHEN media_saved THEN '</span>'  -- masked: the file and its name stay behind
                           WHEN deletes_at IS NOT NULL
                               THEN '<small>' || replace(l.not_saved_until, '{time}', deletes_at)
                                    || '</small>'
                                    || coalesce('<code class="save">' || html_escape(save_command) || '</code>', '')
                                    || '</span>'
                           ELSE '<small>' || l.not_saved || '</small></span>' END
                   || '</div>'
               WHEN kind IN ('sticker', 'location', 'unsent') THEN
                   '<div class="bubble note">' || l.kind_labels[list_position(l.kinds, kind)] || '</div>'
               ELSE concat('<div class="bubble">', html_escape(content), '</div>')
            END,
            '<time datetime="', local_iso, '">', strftime(local, '%H:%M'), '</time></div></div></div>'
        ) AS html
    FROM rows
    JOIN (  -- the account's words escaped once (a date's numbers and a deletion time need none)
        SELECT * REPLACE (list_transform(day_parts, p -> html_escape(p)) AS day_parts,
                          list_transform(weekdays, w -> html_escape(w)) AS weekdays,
                          list_transform(kind_labels, k -> html_escape(k)) AS kind_labels,
                          html_escape(not_saved) AS not_saved, html_escape(not_saved_until) AS not_saved_until)
        FROM _account_labels
    ) l USING (account_name)
)
SELECT page, account_name, any_value(chat_name) AS chat_name, any_value(chat_type) AS chat_type, count(*) AS messages,
       string_agg(html, '' ORDER BY sent_at, export_seq) AS body
FROM bubbles
GROUP BY page, account_name
ORDER BY page
