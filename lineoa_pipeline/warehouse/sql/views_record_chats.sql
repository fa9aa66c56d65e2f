-- The fingerprints the materialised views now hold, in the transaction that rebuilt them.
DELETE FROM _view_chats;
INSERT INTO _view_chats SELECT * FROM _chat_prints;
DROP TABLE _chat_prints;
DROP TABLE _refresh_chats;
