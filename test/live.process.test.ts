import { join } from 'node:path';
import { sign } from 'retell-sdk';
import { LocalServices } from '@callsync/testkit';
import { createDb, migrateToLatest, type Db } from '@callsync/db';
import { addCompany, mapNumber, notifyTenantsChanged, setBlockedNumbers, setNumberRouting } from '@callsync/db/tenants';
import { migrations } from '@callsync/migrations';
import { TEST_API_KEY } from './support/env';
import { assertBuilt, freePort, ROOT, run, until, type Proc } from './support/processes';

/**
 * The live process (apps/ingress/dist/live-main.js) on a Postgres of this file's own, so stopping it
 * disturbs no other test: inbound answers route by schedule and reject blocked callers from memory,
 * with Postgres stopped too; tenant changes reach it through callsync_tenants.
 */
const LIVE = join(ROOT, 'apps/ingress/dist/live-main.js');
const NUMBER = '+493033081738';
const BLOCKED = '+4915112345678';
let services: LocalServices;
let db: Db;
let live: Proc;
let url: string;
let companyId: string;

beforeAll(async () => {
  assertBuilt();
  services = await LocalServices.create(join(__dirname, '..'), 'live33');
  await services.start();
  db = createDb({ url: services.databaseUrl, poolSize: 2 });
  await migrateToLatest(db, migrations);
  companyId = (await addCompany(db, 'Praxis Dr. Weber', 'Europe/Berlin')).id;
  await mapNumber(db, NUMBER, companyId);
  await setNumberRouting(db, NUMBER, {
    variables: { practice_phone: '030 3308 1738' },
    // Every day, all day: the answer names the agent whatever the time the test runs.
    schedules: [
      {
        weekdays: [1, 2, 3, 4, 5, 6, 7],
        starts_at: '00:00:00',
        ends_at: '24:00:00',
        agent_id: 'agent_all',
        agent_version: 2,
      },
    ],
  });
  await setBlockedNumbers(db, companyId, [BLOCKED]);
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  live = run(
    LIVE,
    services.processEnv(TEST_API_KEY, await freePort(), { LIVE_PORT: String(port), LIVE_METRICS_PORT: '0' }),
  );
  await until('live process ready', async () =>
    (await fetch(`${url}/readyz`).catch(() => null))?.ok ? true : undefined,
  );
}, 90_000);

afterAll(async () => {
  live?.child.kill('SIGKILL');
  await live?.exited;
  await db?.destroy();
  await services?.destroy();
});

async function inbound(
  from: string,
  callId?: string,
): Promise<{ status: number; body: { call_inbound: Record<string, unknown> } }> {
  const payload = JSON.stringify({
    event: 'call_inbound',
    call_inbound: { from_number: from, to_number: NUMBER, ...(callId ? { call_id: callId } : {}) },
  });
  const res = await fetch(`${url}/api/retell/inbound`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(payload, TEST_API_KEY) },
    body: payload,
  });
  return { status: res.status, body: (await res.json()) as { call_inbound: Record<string, unknown> } };
}

describe('the live process', () => {
  it('routes by schedule with caller memory, rejects the blocklist, and hears tenant changes', async () => {
    const routed = await inbound('+491700000001');
    expect(routed).toEqual({
      status: 200,
      body: {
        call_inbound: {
          override_agent_id: 'agent_all',
          override_agent_version: 2,
          dynamic_variables: {
            practice_phone: '030 3308 1738',
            company_name: 'Praxis Dr. Weber',
            caller_known: 'false',
            caller_call_count: '0',
            caller_last_call_at: '',
            caller_last_summary: '',
          },
        },
      },
    });
    expect((await inbound(BLOCKED)).body).toEqual({ call_inbound: { reject: true } });
    // Blocked by the tenant file (apply notifies): the live process hears it without a restart.
    await db.transaction().execute(async (trx) => {
      await setBlockedNumbers(trx, companyId, [BLOCKED, '+491700000002']);
      await notifyTenantsChanged(trx);
    });
    await until('the new blocklist to apply', async () =>
      (await inbound('+491700000002')).body.call_inbound.reject === true ? true : undefined,
    );
  });

  it('with Postgres stopped, still routes by schedule and still rejects blocked callers; only caller memory is missing', async () => {
    await services.stopPostgres();
    try {
      const routed = await inbound('+491700000003', 'call_pg_down_1');
      expect(routed).toEqual({
        status: 200,
        body: {
          call_inbound: {
            override_agent_id: 'agent_all',
            override_agent_version: 2,
            dynamic_variables: { practice_phone: '030 3308 1738', company_name: 'Praxis Dr. Weber' },
          },
        },
      });
      expect((await inbound(BLOCKED, 'call_pg_down_2')).body).toEqual({ call_inbound: { reject: true } });
      expect((await inbound('+491700000002')).body).toEqual({ call_inbound: { reject: true } });
      // Ready: it can answer (routing is in memory), though Postgres is not.
      const ready = await fetch(`${url}/readyz`);
      expect([ready.status, ((await ready.json()) as { routing: string }).routing]).toEqual([200, 'in memory']);
    } finally {
      await services.startPostgres();
    }
    // Back: caller memory again.
    await until('caller memory with Postgres back', async () => {
      const vars = (await inbound('+491700000004')).body.call_inbound.dynamic_variables as Record<string, string>;
      return 'caller_known' in vars ? true : undefined;
    });
    const back = await inbound('+491700000004');
    expect(back.body.call_inbound.dynamic_variables).toMatchObject({
      caller_known: 'false',
      company_name: 'Praxis Dr. Weber',
    });
  });
});
