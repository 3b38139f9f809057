// The bench's second baseline: the durable ingress a team would write without callsync, written
// fairly. Express, the same HMAC check, one INSERT … ON CONFLICT into callsync's webhook_events and one
// queue.add per request, on the same Postgres server and Redis (a database and a queue of its own, so
// the drain phases measure callsync's rows only). A 200 means the row is committed and its job added,
// as with callsync.
// Run as its own process: node naive-server.js <port>, with callsync's environment.
import express from 'express';
import { loadConfig } from '@callsync/config';
import { createDb } from '@callsync/db';
import { recordDelivery } from '@callsync/db/events';
import { createRedisConnection, createWebhookQueue, enqueueWebhookEvent, webhookJobData } from '@callsync/queue';
import { verifyRetellSignature } from '@callsync/retell';

const config = loadConfig();
const db = createDb({ url: config.database.url, poolSize: config.database.poolSize });
const connection = createRedisConnection(config.redis);
const queue = createWebhookQueue({ connection, prefix: config.redis.prefix, name: 'bench-naive', ...config.worker });

const app = express();
app.post('/api/webhooks/retell', express.raw({ type: () => true, limit: '5mb' }), async (req, res) => {
  const raw = req.body as Buffer;
  const signature = req.get('x-retell-signature');
  if (!verifyRetellSignature(raw, signature, config.retell.webhookKeys).ok) {
    res.status(401).json({ error: 'bad signature' });
    return;
  }
  const text = raw.toString('utf8');
  let body: { event?: string; call?: { call_id?: string } };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    res.status(400).json({ error: 'not JSON' });
    return;
  }
  const event = String(body.event);
  const callId = body.call?.call_id ?? null;
  try {
    const row = await recordDelivery(db, {
      eventType: event,
      callId,
      dedupeKey: `${event}:${callId}`,
      payloadJson: text,
      rawBody: raw,
      signature: signature ?? null,
      source: 'webhook',
    });
    if (row.inserted)
      await enqueueWebhookEvent(queue, webhookJobData({ id: row.id, event_type: event, call_id: callId }));
    res.status(200).json({ received: true, id: row.id });
  } catch (err) {
    res.status(503).json({ error: (err as Error).message });
  }
});
const server = app.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () =>
  server.close(() => {
    void Promise.all([db.destroy(), queue.close()]).finally(() => {
      connection.disconnect();
      process.exit(0);
    });
  }),
);
