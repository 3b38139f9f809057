import type { Config } from '@callsync/config';
import { createDb, type Db } from '@callsync/db';
import { findCompanyIdForAgent } from '@callsync/db/tenants';
import { countPendingEventsOfCalls } from '@callsync/db/ops';
import { waitUntil } from '@callsync/runtime';
import { DemoForwarding } from '../demo-forwarding';
import { sendVersionCalls } from '../demo-versions';
import { duringTheCall } from '../demo/during-the-call';
import { isFakeRetell, lostCallOf, reconcileNow, sendStaleCall } from '../demo/reconciliation';
import { printResults } from '../demo/results';
import { DEMO_AGENT, scenarios, type Scenario } from '../demo/scenarios';
import { signedPost, type Send } from '../demo/signed-post';
import { keyringOf } from '../secret-key';

async function waitUntilSettled(db: Db, callIds: string[], timeoutMs: number): Promise<boolean> {
  const settled = await waitUntil(
    async () => ((await countPendingEventsOfCalls(db, callIds)) === 0 ? true : undefined),
    {
      timeoutMs,
      intervalMs: 250,
    },
  );
  return settled ?? false;
}

/** `make demo`: send signed, realistic deliveries to the running ingress and show what became of them. */
export async function demoCommand(config: Config, args: string[]): Promise<number> {
  const urlArg = args.find((a) => a.startsWith('--url='));
  const url = urlArg ? urlArg.slice('--url='.length) : `http://127.0.0.1:${config.ingress.port}/api/webhooks/retell`;
  const send: Send = async (body) => {
    const { status, text } = await signedPost(url, body, config.retell.webhookKeys[0]!);
    return `${status} ${text}`;
  };
  const db = createDb({ url: config.database.url, poolSize: 2, applicationName: 'callsync-demo' });
  try {
    const run = Date.now().toString(36);
    const all = scenarios(run);
    console.log(`Sending to ${url}, signed with retell-sdk\n`);
    // Applied before the forwarding destination exists, so the demo forwards only its scenarios' events.
    let compared: boolean;
    try {
      compared = await sendVersionCalls(db, DEMO_AGENT, run, send);
    } catch (err) {
      console.error(`\ncannot reach the ingress at ${url}: ${(err as Error).message}\nIs \`make up\` running?`);
      return 1;
    }
    const forwarding = await DemoForwarding.start(db, keyringOf(config));
    try {
      try {
        await sendScenarios(all, send);
      } catch (err) {
        console.error(`\ncannot reach the ingress at ${url}: ${(err as Error).message}\nIs \`make up\` running?`);
        return 1;
      }
      return (await afterSending(config, db, url, run, all, send, forwarding)) || (compared ? 0 : 1);
    } finally {
      await forwarding.stop();
    }
  } finally {
    await db.destroy();
  }
}

async function afterSending(
  config: Config,
  db: Db,
  url: string,
  run: string,
  all: Scenario[],
  send: Send,
  forwarding: DemoForwarding,
): Promise<number> {
  // A call that only ever gets call_started: the reconciliation pass closes it (with the fake Retell).
  const stale = (await isFakeRetell(config.retell.apiBaseUrl)) ? await sendStaleCall(config, run, send) : undefined;
  const ids = [...all.filter((s) => !s.chat).map((s) => s.callId), ...(stale ? [stale] : [])];
  const chatIds = all.filter((s) => s.chat).map((s) => s.callId);
  console.log('\nwaiting for the worker...');
  const settled = await waitUntilSettled(db, [...ids, ...chatIds], 30_000);
  if (stale) {
    await reconcileNow(config, db, stale);
    ids.push(lostCallOf(stale));
  } else console.log('(RETELL_API_BASE_URL is the real Retell API, so the reconciliation scenario was skipped.)');
  await printResults(db, ids, chatIds);
  if (!settled) {
    console.error('some events are still pending after 30 s: is the worker running?');
    return 1;
  }
  const forwarded = await forwarding.report([...ids, ...chatIds]);
  await duringTheCall(url, config.retell.webhookKeys[0]!, run, send);
  if ((await findCompanyIdForAgent(db, DEMO_AGENT)) === null)
    console.log(
      `\ncompany_id is empty: nothing maps ${DEMO_AGENT} to a company yet. ` +
        `make tenants ARGS="apply examples/tenants.yaml" maps it; the sessions above get their company at once.`,
    );
  return forwarded ? 0 : 1;
}

async function sendScenarios(all: Scenario[], send: Send): Promise<void> {
  for (const s of all) {
    console.log(`${s.title}: ${s.callId}`);
    for (const d of s.deliveries) {
      console.log(`  POST ${d.label.padEnd(28)} -> ${await send(d.body)}`);
    }
  }
}
