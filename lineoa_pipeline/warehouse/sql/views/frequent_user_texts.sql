/* ---
description: >
  The texts many customers send word for word: user text and menu-tap contents, grouped by stored content,
  that appear in at least 5 distinct chats of the account, most chats first (then most messages, then
  content). Where to find the rich-menu texts to list in menu_texts.
reads: [messages]
columns:
  account_name: The account, as its exports name it.
  content: The text, as stored.
  chats: Distinct chats it was sent in.
  messages: How many times users sent it.
  first_sent_at: When it was first sent.
  last_sent_at: When it was last sent.
--- */
CREATE OR REPLACE VIEW frequent_user_texts AS
SELECT account_name, content, count(DISTINCT chat_name) AS chats, count(*) AS messages,
       min(sent_at) AS first_sent_at, max(sent_at) AS last_sent_at
FROM messages
WHERE sender_type = 'user' AND kind IN ('text', 'menu_tap')
GROUP BY account_name, content
HAVING count(DISTINCT chat_name) >= 5
ORDER BY chats DESC, messages DESC, content;
