-- Placeholders per account and status.
SELECT account_name, status, count(*) AS placeholders
FROM media
GROUP BY account_name, status
