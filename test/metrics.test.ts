import { sql } from 'kysely';
import request from 'supertest';
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

async function scrape(): Promise<string> {
  const res = await request(p.app).get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.text;
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
    if (got.name === want.name && Object.entries(want.labels).every(([k, v]) => got.labels[k] === v)) return Number(line.slice(cut + 1));
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
    ids.push((await p.deliver(JSON.stringify({ event: 'transcript_updated', call: { call_id: callId } }))).body.id);
    await p.settled(ids);
    const text = await scrape();
    expect(value(text, 'callsync_events_handled_total{event="call_started",outcome="processed"}')).toBe(1);
    expect(value(text, 'callsync_events_handled_total{event="call_ended",outcome="processed"}')).toBe(1);
    expect(value(text, 'callsync_events_handled_total{event="transcript_updated",outcome="skipped"}')).toBe(1);
    expect(value(text, 'callsync_event_processing_seconds_count{event="call_started"}')).toBe(1);
  });

  it('reports queue depth, rows pending for over 5 minutes and sessions stuck in_progress', async () => {
    p.metrics.watchState(t.db, [p.queue]);
    await p.worker!.pause();
    await p.deliver(body('call_started', { callId: newCallId() }));
    await sql`insert into webhook_events (event_type, event_id, dedupe_key, payload, created_at) values ('call_started', 'old', 'call_started:old', '{}', now() - interval '6 minutes')`.execute(t.db);
    await sql`insert into retell_call_sessions (call_id, call_status, started_at) values ('stuck', 'in_progress', now() - interval '11 minutes'), ('fresh', 'in_progress', now())`.execute(t.db);
    const text = await scrape();
    expect(value(text, `callsync_queue_jobs{queue="${p.queueName}",state="waiting"}`)).toBe(1);
    expect(value(text, 'callsync_events_pending_over_5m')).toBe(1);
    expect(value(text, 'callsync_sessions_stuck_in_progress')).toBe(1);
  });
});
