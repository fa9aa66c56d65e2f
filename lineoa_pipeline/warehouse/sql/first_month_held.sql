-- The first month of messages a reader's warehouse holds (the partitions start there with first_month = "auto").
SELECT min(month) FROM messages
