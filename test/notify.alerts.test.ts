import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { SMTPServer } from 'smtp-server';
import { ConfigError, loadConfig } from '@callsync/config';
import { createDb } from '@callsync/db';
import {
  ALERT_CONDITIONS,
  emailSender,
  runAlertCheck,
  webhookSender,
  type AlertSender,
  type NotifierOptions,
} from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { createAlertQueue, createRedisConnection, scheduleAlertChecks, type RedisConnection } from '@callsync/queue';
import { holdWebhookEventsLock } from '@callsync/testkit';
import { applyRetention, createAlertWorker } from '@callsync/worker';
import { newCallId, storeAgedEvent } from './support/calls';
import { truncateAll, useTestDatabase } from './support/database';
import { cliEnvironment, serviceUrls } from './support/env';
import { TEST_KEYS } from './support/keys';
import { TEST_PREFIX } from './support/pipeline';
import { deleteQueueKeys, run, until, WORKER } from './support/processes';

/*
 * callsync's own notifications (issue 32): a real SMTP server and a real HTTP receiver on loopback,
 * real Postgres, and for the scheduled check a real BullMQ worker.
 */

const t = useTestDatabase();
const logger = createLogger({ silent: true });
const policy = { payloadDays: 30, eventRowDays: 180, sessionPiiDays: 90, failedPayloadDays: 14 };
const SMTP_PASSWORD = 's3cret-Pa55word';

interface Mail {
  from: string;
  to: string[];
  subject: string;
  raw: string;
}

/** A real SMTP server that wants a login (the one in ALERT_SMTP_URL) and keeps every message. */
async function startSmtp(): Promise<{ mails: Mail[]; port: number; close(): Promise<void> }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    // Plain SMTP on loopback: no STARTTLS to offer, and login without TLS allowed.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === 'alerts' && auth.password === SMTP_PASSWORD) return cb(null, { user: 'alerts' });
      cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(raw)?.[1]?.replace(/\r\n[ \t]/g, ' ') ?? '';
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject,
          raw,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { mails, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A real HTTP receiver standing in for a Slack incoming webhook; `failNext` answers 500 that many times. */
async function startReceiver(): Promise<{
  posts: { text: string }[];
  url: string;
  failNext: { n: number };
  close(): Promise<void>;
}> {
  const posts: { text: string }[] = [];
  const failNext = { n: 0 };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url !== '/services/T000/B000/XXXXsecret' || req.method !== 'POST') return res.writeHead(404).end();
      if (failNext.n > 0) {
        failNext.n -= 1;
        return res.writeHead(500).end('boom');
      }
      posts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text: string });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    posts,
    failNext,
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXXsecret`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let smtp: Awaited<ReturnType<typeof startSmtp>>;
let hook: Awaited<ReturnType<typeof startReceiver>>;
const senders: AlertSender[] = [];

function channels(): AlertSender[] {
  const s = [
    emailSender({
      smtpUrl: `smtp://alerts:${SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
      from: 'callsync@example.test',
      to: ['ops@example.test', 'oncall@example.test'],
    }),
    webhookSender({ url: hook.url }),
  ];
  senders.push(...s);
  return s;
}

beforeAll(async () => {
  smtp = await startSmtp();
  hook = await startReceiver();
});
afterAll(async () => {
  for (const s of senders) s.close();
  await smtp.close();
  await hook.close();
});
beforeEach(async () => {
  await truncateAll(t.db);
  await sql`truncate alert_states, alert_messages, audit_runs restart identity`.execute(t.db);
  smtp.mails.length = 0;
  hook.posts.length = 0;
  hook.failNext.n = 0;
});

/** A retention run that really fails: a step cannot get its lock on webhook_events within 100 ms. */
async function failingRetentionRun(): Promise<void> {
  const impatient = createDb({ url: t.url, poolSize: 2, lockTimeoutMs: 100 });
  let release!: () => void;
  const held = holdWebhookEventsLock(t.db, new Promise<void>((r) => (release = r)));
  try {
    // The lock is taken once a query on webhook_events has to wait for it.
    await until('the lock to be held', async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_locks l join pg_class c on c.oid = l.relation
        where c.relname = 'webhook_events' and l.mode = 'ShareLock' and l.granted`.execute(t.db);
      return rows[0]!.n > 0 ? true : undefined;
    });
    await expect(applyRetention(impatient, TEST_KEYS, logger, policy)).rejects.toThrow('lock timeout');
  } finally {
    release();
    await held;
    await impatient.destroy();
  }
}

const check = (o: Partial<NotifierOptions> = {}) =>
  runAlertCheck(t.db, { senders: channels(), clearAfterMs: 0, summaryHourUtc: null, logger, ...o });

describe('alert notifications without Prometheus', () => {
  it('a worker process with ALERT_SMTP_URL set mails once when a retention run fails and once when it clears', async () => {
    const prefix = `{h32b-alerts-${randomUUID().slice(0, 8)}}`;
    const worker = run(WORKER, {
      ...cliEnvironment(t.url, prefix),
      WORKER_METRICS_PORT: '0',
      ALERT_SMTP_URL: `smtp://alerts:${SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
      ALERT_EMAIL_TO: 'ops@example.test',
      ALERT_EMAIL_FROM: 'callsync@example.test',
      ALERT_CHECK_EVERY_SECONDS: '1',
      ALERT_CLEAR_AFTER_SECONDS: '0',
    });
    const alerts = () => smtp.mails.filter((m) => !m.subject.startsWith('[callsync] Daily health'));
    // The worker's checks, as Bull Board would show them.
    const connection: RedisConnection = createRedisConnection({ url: serviceUrls().redisUrl });
    const queue = createAlertQueue(connection, prefix);
    const checksPass = async (n: number) => {
      const done = async () => (await queue.getJobCounts('completed')).completed ?? 0;
      const base = await done();
      await until(`${n} more alert checks`, async () => ((await done()) >= base + n ? true : undefined));
    };
    try {
      // The worker's own retention run at start-up succeeds: nothing to tell.
      await until('the start-up retention run', async () =>
        (await sql`select 1 from retention_runs where finished_at is not null`.execute(t.db)).rows.length
          ? true
          : undefined,
      );
      await failingRetentionRun();
      await until('the mail that the failure started', async () => (alerts().length >= 1 ? true : undefined));
      await checksPass(3);
      expect(alerts().map((m) => m.subject)).toEqual(['[callsync] FIRING CallsyncRetentionFailed']);

      await applyRetention(t.db, TEST_KEYS, logger, policy);
      await until('the mail that the failure cleared', async () => (alerts().length >= 2 ? true : undefined));
      await checksPass(3);
      expect(alerts().map((m) => m.subject)).toEqual([
        '[callsync] FIRING CallsyncRetentionFailed',
        '[callsync] RESOLVED CallsyncRetentionFailed',
      ]);
      expect(worker.output()).not.toContain(SMTP_PASSWORD);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
      await queue.close();
      connection.disconnect();
      await deleteQueueKeys(serviceUrls().redisUrl, prefix);
    }
  });

  it('a scheduled check mails once when a retention run fails and once when the next run succeeds (and posts the same to the webhook)', async () => {
    const { redisUrl } = serviceUrls();
    const connection: RedisConnection = createRedisConnection({ url: redisUrl });
    const queue = createAlertQueue(connection, TEST_PREFIX, `alerts-${randomUUID()}`);
    const worker = createAlertWorker({
      db: t.db,
      connection,
      logger,
      prefix: TEST_PREFIX,
      queueName: queue.name,
      senders: channels(),
      clearAfterMs: 0,
      summaryHourUtc: null,
    });
    const completedChecks = async () => (await queue.getJobCounts('completed')).completed ?? 0;
    /** Wait for `n` more checks to complete than have now. */
    const checksPass = async (n: number) => {
      const base = await completedChecks();
      await until(`${n} more alert checks`, async () => ((await completedChecks()) >= base + n ? true : undefined));
    };
    try {
      await scheduleAlertChecks(queue, 1000);
      await checksPass(2);
      expect(smtp.mails).toHaveLength(0);

      await failingRetentionRun();
      const [started] = await until('the mail that the failure started', async () =>
        smtp.mails.length >= 1 ? smtp.mails : undefined,
      );
      expect(started!.subject).toBe('[callsync] FIRING CallsyncRetentionFailed');
      expect(started!.to.sort()).toEqual(['oncall@example.test', 'ops@example.test']);
      expect(started!.raw.replace(/=\r\n/g, '')).toContain('lock timeout');
      await checksPass(3);
      // Still failing at every check since: no more mail.
      expect(smtp.mails).toHaveLength(1);

      await applyRetention(t.db, TEST_KEYS, logger, policy);
      await until('the mail that the failure cleared', async () => (smtp.mails.length >= 2 ? true : undefined));
      expect(smtp.mails[1]!.subject).toBe('[callsync] RESOLVED CallsyncRetentionFailed');
      await checksPass(3);
      expect(smtp.mails.map((m) => m.subject)).toEqual([
        '[callsync] FIRING CallsyncRetentionFailed',
        '[callsync] RESOLVED CallsyncRetentionFailed',
      ]);
      expect(hook.posts.map((p) => p.text.split('\n')[0])).toEqual([
        '*[callsync] FIRING CallsyncRetentionFailed*',
        '*[callsync] RESOLVED CallsyncRetentionFailed*',
      ]);
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    }
  });

  it('tells a start once, whether several workers check at once or a worker restarts', async () => {
    await failingRetentionRun();
    // Three processes checking at the same moment, each with its own senders.
    const results = await Promise.all([check(), check(), check()]);
    expect(results.flatMap((r) => r.started)).toEqual(['CallsyncRetentionFailed']);
    expect(smtp.mails).toHaveLength(1);
    expect(hook.posts).toHaveLength(1);
    // A restarted worker (new senders, nothing in memory) knows from Postgres that it was told.
    expect(await check()).toMatchObject({ started: [], ended: [], sent: 0 });
    expect(smtp.mails).toHaveLength(1);
  });

  it('ends a condition only after it has been clear for the clear-after time (no flood from flapping)', async () => {
    let now = Date.now();
    const at = () => new Date(now);
    // This condition alone (with no webhooks at all, CallsyncNoWebhooks would fire too).
    const conditions = ALERT_CONDITIONS.filter((c) => c.name === 'CallsyncWebhooksLost');
    const o = { clearAfterMs: 5 * 60_000, now: at, conditions };
    await sql`insert into reconcile_runs (trigger, runner, started_at, finished_at, discovered)
      values ('scheduled', 'test', now(), now(), 2)`.execute(t.db);
    expect((await check(o)).started).toEqual(['CallsyncWebhooksLost']);
    expect(smtp.mails[0]!.raw).toContain('2 call(s) or chat(s) found only by discovery in the last hour');
    // An hour on, the discovery is out of the window: clear, but not for long enough yet.
    now += 61 * 60_000;
    expect(await check(o)).toMatchObject({ started: [], ended: [] });
    // It fires again before the clear-after time has passed: still the same episode, no message.
    await sql`insert into reconcile_runs (trigger, runner, started_at, finished_at, discovered)
      values ('scheduled', 'test', ${at()}, ${at()}, 1)`.execute(t.db);
    now += 60_000;
    expect(await check(o)).toMatchObject({ started: [], ended: [] });
    now += 61 * 60_000;
    expect(await check(o)).toMatchObject({ ended: [] });
    now += 6 * 60_000;
    expect(await check(o)).toMatchObject({ ended: ['CallsyncWebhooksLost'] });
    expect(smtp.mails.map((m) => m.subject)).toEqual([
      '[callsync] FIRING CallsyncWebhooksLost',
      '[callsync] RESOLVED CallsyncWebhooksLost',
    ]);
  });

  it('retries a channel that failed at the next check without repeating the one that worked', async () => {
    hook.failNext.n = 1;
    await failingRetentionRun();
    expect(await check()).toMatchObject({ started: ['CallsyncRetentionFailed'], sent: 1, sendFailures: 1 });
    expect(smtp.mails).toHaveLength(1);
    expect(hook.posts).toHaveLength(0);
    expect(await check()).toMatchObject({ started: [], sent: 1, sendFailures: 0 });
    expect(smtp.mails).toHaveLength(1);
    expect(hook.posts).toHaveLength(1);
  });

  it('tells about destinations paused for over 15 minutes and forwards pending for over 30, each on its own', async () => {
    const dest = async (state: 'active' | 'paused', url: string) =>
      (
        await sql<{
          id: string;
        }>`insert into forward_destinations (url, events, secret, state, paused_reason, updated_at)
          values (${url}, '{call_ended}', 'whsec_x', ${state}, ${state === 'paused' ? 'breaker open' : null},
            now() - interval '20 minutes') returning id`.execute(t.db)
      ).rows[0]!.id;
    const paused = await dest('paused', 'https://crm.example.test/hook?token=abc');
    const slow = await dest('active', 'https://slow.example.test/in');
    await storeAgedEvent(t.db, 'call_ended', newCallId(), 'processed', 40);
    await sql`insert into forward_deliveries (destination_id, webhook_event_id, subject, event_type, status, created_at)
      select ${slow}, id, 'c1', 'call_ended', 'pending', now() - interval '40 minutes' from webhook_events`.execute(
      t.db,
    );
    const r = await check();
    expect(r.started.sort()).toEqual([
      `CallsyncForwardBacklog[${slow}]`,
      `CallsyncForwardDestinationPaused[${paused}]`,
    ]);
    const bodies = smtp.mails.map((m) => m.raw).join('\n');
    expect(bodies).toContain('(crm.example.test) is paused (breaker open)');
    expect(bodies).not.toContain('token=abc');
    expect(bodies).toContain('(slow.example.test): 1 pending, the oldest for 40 minutes');
  });

  it('sends the daily summary once a day, with the two reports and the audit line', async () => {
    await storeAgedEvent(t.db, 'call_started', newCallId(), 'processed', 5);
    await storeAgedEvent(t.db, 'call_started', newCallId(), 'failed', 5);
    await sql`insert into retell_call_sessions (call_id, call_status, started_at)
      values ('call_stuck_1', 'in_progress', now() - interval '45 minutes')`.execute(t.db);
    await sql`insert into audit_runs (run_id, trigger, company, window_start, window_end, grace_seconds, listed, complete, in_flight, gaps, overdue)
      values (${randomUUID()}, 'scheduled', 'unmapped', now() - interval '24 hours', now(), 2100, 12, 10, 1, 1, 1)`.execute(
      t.db,
    );
    const first = await check({ summaryHourUtc: 0 });
    expect(first.summaryQueued).toBe(true);
    const summary = smtp.mails.find((m) => m.subject.startsWith('[callsync] Daily health'));
    expect(summary).toBeDefined();
    const text = summary!.raw.replace(/=\r\n/g, '');
    expect(text).toMatch(/call_started\s+2\s+1\s+0\s+1\s+50\.00/);
    expect(text).toContain('Calls in progress for over 10 minutes (sql/reports/stale-sessions.sql): 1');
    expect(text).toContain('call_stuck_1');
    expect(text).toContain('listed 12, complete 10, in flight 1, gaps 1 (1 older than the grace period)');
    // The audit's overdue gap is a condition of its own.
    expect(first.started).toEqual(['CallsyncAuditGaps[unmapped]']);
    const mails = smtp.mails.length;
    expect(await check({ summaryHourUtc: 0 })).toMatchObject({ summaryQueued: false, sent: 0 });
    expect(smtp.mails).toHaveLength(mails);
  });

  it('never shows the SMTP password or the webhook token, and names the variable a setting needs', async () => {
    const mail = emailSender({
      smtpUrl: `smtp://alerts:wrong-${SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
      from: 'callsync@example.test',
      to: ['ops@example.test'],
    });
    senders.push(mail);
    expect(mail.describe()).not.toContain(SMTP_PASSWORD);
    const err = (await mail.send({ subject: 's', body: 'b' }).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/^alert mail via smtp:\/\/127\.0\.0\.1:\d+ failed: /);
    expect(err.message).not.toContain(SMTP_PASSWORD);
    expect(webhookSender({ url: hook.url }).describe()).toBe(new URL(hook.url).origin);

    const base = { DATABASE_URL: 'postgres://x@localhost/db', REDIS_URL: 'redis://localhost', RETELL_API_KEY: 'k' };
    const problem = (() => {
      try {
        loadConfig({ ...base, ALERT_SMTP_URL: `smtp://alerts:${SMTP_PASSWORD}@mail.example.test:587` });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(problem).toBeInstanceOf(ConfigError);
    expect(problem!.problems).toEqual(['ALERT_EMAIL_TO: is required when ALERT_SMTP_URL is set']);
    expect(problem!.message).not.toContain(SMTP_PASSWORD);
    expect(
      loadConfig({ ...base, ALERT_SMTP_URL: 'smtps://mail.example.test', ALERT_EMAIL_TO: 'a@x.test, b@x.test' }).alerts,
    ).toMatchObject({ emailTo: ['a@x.test', 'b@x.test'], checkEveryMs: 60_000, clearAfterMs: 300_000 });
  });
});
