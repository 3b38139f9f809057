-- Sessions stuck in progress for more than :minutes minutes (the "Check Stale Sessions" query of the system callsync replaced).
-- In psql: \set minutes 10
SELECT
    call_id,
    started_at,
    FLOOR(EXTRACT(EPOCH FROM (NOW() - started_at)) / 60)::int AS minutes_stuck
FROM retell_call_sessions
WHERE call_status = 'in_progress'
  AND started_at < NOW() - make_interval(mins => :minutes)
ORDER BY started_at DESC;
