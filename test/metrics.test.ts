import { sql } from 'kysely';
import request from 'supertest';
import { startMetricsServer } from '@callsync/metrics';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { startPipeline, type Pipeline } from './support/pipeline';

const t = useTestDatabase();
let p: Pipeline;
beforeEach(async () => {
  await truncateAll(t.db);
  p = await startPipeline(t.db);
});
afterEach(() => p.close());

/** GET /metrics on the metrics listener, as Prometheus does. */
async function scrape(): Promise<string> {
  const { server, port } = await startMetricsServer(0, p.metrics, { host: '127.0.0.1' });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    return await res.text();
  } finally {
    await new Promise((r) => server.close(r));
  }
}

/** The value of one series, e.g. value(text, 'callsync_x_total{a="b"}'), whatever other labels it has. */
function value(text: string, series: string): number | undefined {
  const parse = (s: string) => {
    const m = /^([a-zA-Z0-9_:]+)(?:\{(.*)\})?$/.exec(s)!;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    return { name: m[1], labels };
  };
  const want = parse(series);
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    const got = parse(line.slice(0, cut));
    if (got.name === want.name && Object.entries(want.labels).every(([k, v]) => got.labels[k] === v))
      return Number(line.slice(cut + 1));
  }
  return undefined;
}

describe('/metrics', () => {
  it('counts deliveries by event and outcome, and times the acknowledgement', async () => {
    const callId = newCallId();
    await p.deliver(body('call_started', { callId }));
    await p.deliver(body('call_started', { callId }));
    await p.deliver(body('call_ended', { callId }), 'v=1,d=' + '0'.repeat(64));
    await p.deliver(JSON.stringify({ event: 'call_ended', call: {} }));
    const text = await scrape();
    expect(value(text, 'callsync_webhook_deliveries_total{event="call_started",outcome="accepted"}')).toBe(1);
    expect(value(text, 'callsync_webhook_deliveries_total{event="call_started",outcome="duplicate"}')).toBe(1);
    expect(value(text, 'callsync_webhook_deliveries_total{event="unknown",outcome="bad_signature"}')).toBe(1);
    expect(value(text, 'callsync_webhook_deliveries_total{event="unknown",outcome="invalid"}')).toBe(1);
    expect(value(text, 'callsync_webhook_ack_seconds_count{outcome="accepted"}')).toBe(1);
  });

  it('counts events handled by type and outcome, and times processing', async () => {
    const callId = newCallId();
    const ids = [];
    for (const e of ['call_started', 'call_ended'] as const) ids.push((await p.deliver(body(e, { callId }))).body.id);
    ids.push((await p.deliver(JSON.stringify({ event: 'call_paused', call: { call_id: callId } }))).body.id);
    await p.settled(ids);
    const text = await scrape();
    expect(value(text, 'callsync_events_handled_total{event="call_started",outcome="processed"}')).toBe(1);
    expect(value(text, 'callsync_events_handled_total{event="call_ended",outcome="processed"}')).toBe(1);
    expect(value(text, 'callsync_events_handled_total{event="other",outcome="skipped"}')).toBe(1);
    expect(value(text, 'callsync_event_processing_seconds_count{event="call_started"}')).toBe(1);
  });

  it('reports queue depth, rows pending for over 5 minutes, sessions stuck in_progress (still polled) and given up, and chats stuck ongoing', async () => {
    // STALE_AFTER_MINUTES 5 plus one 5-minute reconcile interval.
    p.metrics.watchState(t.db, [p.queue], { stuckAfterMinutes: 10 });
    await p.worker!.pause();
    await p.deliver(body('call_started', { callId: newCallId() }));
    await sql`insert into webhook_events (event_type, event_id, dedupe_key, payload, created_at) values ('call_started', 'old', 'call_started:old', '{}', now() - interval '6 minutes')`.execute(
      t.db,
    );
    await sql`insert into retell_call_sessions (call_id, call_status, started_at, reconcile_stopped_at) values
      ('stuck', 'in_progress', now() - interval '11 minutes', null),
      ('almost', 'in_progress', now() - interval '9 minutes', null),
      ('fresh', 'in_progress', now(), null),
      ('unknown_at_retell', 'in_progress', now() - interval '2 days', now() - interval '1 day')`.execute(t.db);
    await sql`insert into retell_chat_sessions (chat_id, chat_status, started_at) values ('long', 'ongoing', now() - interval '61 minutes'), ('short', 'ongoing', now() - interval '20 minutes'), ('done', 'ended', now() - interval '2 hours')`.execute(
      t.db,
    );
    const text = await scrape();
    expect(value(text, `callsync_queue_jobs{queue="${p.queueName}",state="waiting"}`)).toBe(1);
    expect(value(text, 'callsync_events_pending_over_5m')).toBe(1);
    // The session reconciliation gave up on is not "stuck" (the alert would never clear): it has its own gauge.
    expect(value(text, 'callsync_sessions_stuck_in_progress')).toBe(1);
    expect(value(text, 'callsync_sessions_reconcile_given_up')).toBe(1);
    expect(value(text, 'callsync_chats_stuck_ongoing')).toBe(1);
  });

  it("counts the last day's calls and chats per company, with every unknown company as unmapped", async () => {
    p.metrics.watchState(t.db, [p.queue]);
    await sql`insert into companies (id, name) values (1, 'Praxis'), (2, 'Autohaus')`.execute(t.db);
    await sql`insert into retell_call_sessions (call_id, call_status, company_id) values
      ('a', 'ended', 1), ('b', 'ended', 1), ('c', 'in_progress', 2), ('d', 'ended', null), ('e', 'ended', 99)`.execute(
      t.db,
    );
    await sql`insert into retell_call_sessions (call_id, call_status, company_id, created_at) values ('old', 'ended', 1, now() - interval '2 days')`.execute(
      t.db,
    );
    await sql`insert into retell_chat_sessions (chat_id, chat_status, company_id) values ('h', 'ongoing', 2)`.execute(
      t.db,
    );
    const text = await scrape();
    expect(value(text, 'callsync_sessions_24h{company="1",kind="call",status="ended"}')).toBe(2);
    expect(value(text, 'callsync_sessions_24h{company="2",kind="call",status="in_progress"}')).toBe(1);
    expect(value(text, 'callsync_sessions_24h{company="2",kind="chat",status="ongoing"}')).toBe(1);
    expect(value(text, 'callsync_sessions_24h{company="unmapped",kind="call",status="ended"}')).toBe(2);
    expect(value(text, 'callsync_sessions_24h{company="99"}')).toBeUndefined();
  });

  it('reads the database gauges at most once per cache interval, however often it is scraped', async () => {
    p.metrics.watchState(t.db, [p.queue], { cacheMs: 60_000 });
    expect(value(await scrape(), 'callsync_events_pending_over_5m')).toBe(0);
    await sql`insert into webhook_events (event_type, event_id, dedupe_key, payload, created_at) values ('call_started', 'old', 'call_started:old', '{}', now() - interval '6 minutes')`.execute(
      t.db,
    );
    // A flood of scrapes within the interval: all answered from the one read.
    const texts = await Promise.all(Array.from({ length: 20 }, () => p.metrics.text()));
    expect(texts.map((x) => value(x, 'callsync_events_pending_over_5m'))).toEqual(new Array(20).fill(0));
  });

  it('is not served on the public webhook port', async () => {
    expect((await request(p.app).get('/metrics')).status).toBe(404);
  });
});
