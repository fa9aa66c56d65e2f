-- Inquiries answered before they were asked, or with more business seconds than seconds: none may exist.
SELECT count(*) FROM response_times
WHERE response_seconds < 0 OR business_seconds < 0 OR business_seconds > response_seconds;
