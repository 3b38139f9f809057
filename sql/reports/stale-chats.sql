-- Chats still ongoing for more than :minutes minutes (the chat agents' counterpart of stale-sessions.sql).
-- In psql: \set minutes 60
SELECT
    chat_id,
    chat_type,
    company_id,
    started_at,
    FLOOR(EXTRACT(EPOCH FROM (NOW() - started_at)) / 60)::int AS minutes_stuck
FROM retell_chat_sessions
WHERE chat_status = 'ongoing'
  AND started_at < NOW() - make_interval(mins => :minutes)
ORDER BY started_at DESC;
