-- Settings the SQL needs, resolved per account by Python and rewritten before each use.
CREATE OR REPLACE TABLE _cfg_sender_roles (account_name VARCHAR, sender_name VARCHAR, sender_type VARCHAR);
CREATE OR REPLACE TABLE _cfg_placeholders (account_name VARCHAR, content VARCHAR, kind VARCHAR);
CREATE OR REPLACE TABLE _cfg_chat_types (account_name VARCHAR, name_key VARCHAR, chat_type VARCHAR);
CREATE OR REPLACE TABLE _cfg_accounts (account_name VARCHAR, sla_minutes INTEGER, has_business_hours BOOLEAN);
-- isodow 1 = Monday; seconds since local midnight, half-open [start_s, end_s)
CREATE OR REPLACE TABLE _cfg_business_hours (account_name VARCHAR, isodow INTEGER, start_s INTEGER, end_s INTEGER);
CREATE OR REPLACE TABLE _cfg_holidays (account_name VARCHAR, day DATE);
