-- Processing rate per event type (the "Check Webhook Processing Rate" query of the system callsync replaced, in Postgres syntax).
-- :window is an interval, e.g. '24 hours'. In psql: \set window '24 hours'
SELECT
    event_type,
    COUNT(*) AS total,
    COUNT(CASE WHEN status = 'processed' THEN 1 END) AS processed,
    COUNT(CASE WHEN status = 'pending' THEN 1 END) AS pending,
    COUNT(CASE WHEN status = 'failed' THEN 1 END) AS failed,
    ROUND(100.0 * COUNT(CASE WHEN status = 'processed' THEN 1 END) / COUNT(*), 2) AS success_rate
FROM webhook_events
WHERE provider = 'retell'
  AND created_at >= NOW() - CAST(:'window' AS interval)
GROUP BY event_type
ORDER BY event_type;
