-- Masking for sharing (history/mask.py): every customer name of the selected accounts with its name key and
-- alias (the chat and sender columns), and every text of the selection that masking changes (contents, tags).
CREATE OR REPLACE TEMP TABLE _mask_names (account_name VARCHAR, name VARCHAR, name_key VARCHAR, alias VARCHAR);
CREATE OR REPLACE TEMP TABLE _mask_texts (account_name VARCHAR, text VARCHAR, masked VARCHAR);
