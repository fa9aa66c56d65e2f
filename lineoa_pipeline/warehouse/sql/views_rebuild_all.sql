-- Every chat changed (a new warehouse, new view SQL), or a materialised view is missing: every chat is
-- rebuilt, into tables views.create_views has just dropped, so that they take the columns the SQL gives now.
CREATE OR REPLACE TEMP TABLE _refresh_chats AS SELECT account_name, chat_name FROM _chat_prints;
