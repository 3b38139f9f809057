import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCallSession, findChatSession } from '@callsync/db/sessions';
import { listenForTenantChanges, listTenants, type TenantListener } from '@callsync/db/tenants';
import { invalidateTenantCache } from '@callsync/domain';
import { sampleChatBody } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { serviceUrls, TEST_API_KEY } from './support/env';
import { startPipeline, type Pipeline } from './support/pipeline';
import { assertBuilt, CLI, run, until } from './support/processes';

/** make tenants: companies, agents and numbers, and what they do to sessions. */
const t = useTestDatabase();
const dir = mkdtempSync(join(tmpdir(), 'callsync-tenants-'));
let p: Pipeline;
let listener: TenantListener;
beforeAll(() => assertBuilt());
beforeEach(async () => {
  await truncateAll(t.db);
  invalidateTenantCache();
  p = await startPipeline(t.db);
  // The in-process worker hears mapping changes as a worker process does.
  listener = listenForTenantChanges(t.url, invalidateTenantCache);
});
afterEach(async () => {
  await listener.close();
  await p.close();
});

async function tenants(...args: string[]): Promise<{ code: number; output: string }> {
  const proc = run(
    CLI,
    { DATABASE_URL: t.url, REDIS_URL: serviceUrls().redisUrl, RETELL_API_KEY: TEST_API_KEY, NODE_ENV: 'production' },
    ['tenants', ...args],
  );
  const code = (await proc.exited) ?? -1;
  return { code, output: proc.output() };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const GOOD = `companies:
  - name: Praxis Dr. Weber
    time_zone: Europe/Berlin
    agents: [agent_weber]
    numbers:
      - number: "+493033081738"
        nickname: Empfang
  - name: Autohaus Nord
    agents:
      - agent_nord
`;

describe('make tenants apply', () => {
  it('brings the database to the file, and a second run changes nothing', async () => {
    const path = file('good.yaml', GOOD);
    const dry = await tenants('apply', path, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.output).toContain('would change: company added: "Praxis Dr. Weber"');
    expect((await listTenants(t.db)).companies).toEqual([]);

    const first = await tenants('apply', path);
    expect(first.code).toBe(0);
    expect(first.output).toMatch(
      /changed: company added: "Praxis Dr. Weber" \(id \d+, Europe\/Berlin, caller memory summary\)/,
    );
    expect(first.output).toContain('changed: agent agent_weber: nobody -> "Praxis Dr. Weber"');
    expect(first.output).toContain('changed: number +493033081738: nobody -> "Praxis Dr. Weber"');
    const state = await listTenants(t.db);
    expect(state.companies.map((c) => [c.name, c.time_zone])).toEqual([
      ['Praxis Dr. Weber', 'Europe/Berlin'],
      ['Autohaus Nord', 'UTC'],
    ]);
    expect(state.numbers).toEqual([expect.objectContaining({ phone_number: '+493033081738', nickname: 'Empfang' })]);

    const second = await tenants('apply', path);
    expect(second).toEqual({ code: 0, output: expect.stringContaining('nothing to change') });
    expect(await listTenants(t.db)).toEqual(state);

    // Removing an agent from a company's list unmaps it; the other company is untouched.
    const fewer = await tenants('apply', file('fewer.yaml', GOOD.replace('agents: [agent_weber]', 'agents: []')));
    expect(fewer.output).toContain('agent agent_weber: "Praxis Dr. Weber" -> nobody (not in the file any more)');
    const nord = state.companies.find((c) => c.name === 'Autohaus Nord')!;
    expect((await listTenants(t.db)).agents.find((a) => a.agent_id === 'agent_nord')?.company_id).toBe(nord.id);
  });

  it.each([
    [
      'a malformed number',
      GOOD.replace('"+493033081738"', '"030 3308 1738"'),
      /bad\.yaml:6: "030 3308 1738" is not an E\.164 number/,
    ],
    [
      'an unknown key',
      GOOD.replace('    time_zone: Europe/Berlin', '    timezone: Europe/Berlin'),
      /bad\.yaml:2: .*unknown key timezone/,
    ],
    ['a bad time zone', GOOD.replace('Europe/Berlin', 'Europe/Hamburg'), /bad\.yaml:3: .*time_zone.*IANA/],
    [
      'an agent under two companies',
      GOOD.replace('agent_nord', 'agent_weber'),
      /bad\.yaml:10: agent agent_weber is listed under "Praxis Dr. Weber"/,
    ],
    ['broken YAML', 'companies:\n  - name: [unclosed\n', /bad\.yaml:\d+: /],
  ])('refuses %s, naming the line, and changes nothing', async (_what, text, message) => {
    const r = await tenants('apply', file('bad.yaml', text));
    expect(r.code).toBe(1);
    expect(r.output).toMatch(message);
    expect(r.output).toContain('nothing was changed');
    expect(await listTenants(t.db)).toEqual({ companies: [], agents: [], numbers: [] });
  });
});

describe('inbound routing in the tenant file', () => {
  it('sets time windows, static variables and blocked callers, and a second run changes nothing', async () => {
    const text = `companies:
  - name: Praxis Dr. Weber
    time_zone: Europe/Berlin
    blocked: ["+4915112345678"]
    numbers:
      - number: "+493033081738"
        variables: { practice_phone: "030 3308 1738" }
        schedule:
          - { days: mon-fri, from: "08:00", to: "18:00", agent: agent_day }
          - { days: [sat, sun], from: "00:00", to: "24:00", agent: agent_weekend, version: 2 }
`;
    const path = file('routing.yaml', text);
    const first = await tenants('apply', path);
    expect(first.output).toContain('number +493033081738: inbound routing set (1 variable(s), 2 time window(s))');
    expect(first.output).toContain('company "Praxis Dr. Weber": blocked callers added +4915112345678');
    const schedules = await t.db.selectFrom('inbound_schedules').selectAll().orderBy('id').execute();
    expect(schedules.map((s) => [s.weekdays, s.starts_at, s.ends_at, s.agent_id, s.agent_version])).toEqual([
      [[1, 2, 3, 4, 5], '08:00:00', '18:00:00', 'agent_day', null],
      [[6, 7], '00:00:00', '24:00:00', 'agent_weekend', 2],
    ]);
    expect((await tenants('apply', path)).output).toContain('nothing to change');
    const bad = await tenants('apply', file('bad-routing.yaml', text.replace('mon-fri', 'monday-friday')));
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/bad-routing\.yaml:9: .*days must be like mon-fri/);
  });

  it('sets caller_memory per company (default summary), and refuses a value it does not know, naming the line', async () => {
    const text = `companies:
  - name: Praxis Dr. Weber
    caller_memory: count
  - name: Autohaus Nord
`;
    const first = await tenants('apply', file('memory.yaml', text));
    expect(first.code).toBe(0);
    const memory = async () =>
      Object.fromEntries(
        (await t.db.selectFrom('companies').select(['name', 'caller_memory']).execute()).map((c) => [
          c.name,
          c.caller_memory,
        ]),
      );
    expect(await memory()).toEqual({ 'Praxis Dr. Weber': 'count', 'Autohaus Nord': 'summary' });
    const off = await tenants('apply', file('memory-off.yaml', text.replace('count', 'off')));
    expect(off.output).toContain('company "Praxis Dr. Weber": caller memory count -> off');
    expect(await memory()).toEqual({ 'Praxis Dr. Weber': 'off', 'Autohaus Nord': 'summary' });
    const bad = await tenants('apply', file('memory-bad.yaml', text.replace('count', 'everything')));
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/memory-bad\.yaml:3: companies\.0\.caller_memory/);
  });
});

describe('make tenants, one mapping at a time', () => {
  it('refuses an unknown company and a malformed number with a clear message', async () => {
    expect(await tenants('agent', 'map', 'agent_x', 'Nobody GmbH')).toEqual({
      code: 2,
      output: expect.stringContaining('unknown company "Nobody GmbH"'),
    });
    expect((await tenants('company', 'add', 'Praxis', '--tz', 'Mars/Olympus')).output).toContain(
      '"Mars/Olympus" is not an IANA time zone',
    );
    expect((await tenants('company', 'add', 'Praxis')).code).toBe(0);
    expect(await tenants('number', 'map', '4930123', 'Praxis')).toEqual({
      code: 2,
      output: expect.stringContaining('"4930123" is not an E.164 number'),
    });
    const list = await tenants('list');
    expect(list.output).toMatch(/Companies\n.*\n.*\n {2}1 +Praxis +UTC +summary +0 +0/);
  });

  it('a mapping added after calls arrived gives them their company, and the next event has it already', async () => {
    const early = newCallId();
    const chatId = newCallId('chat');
    const ids = [
      (await p.deliver(body('call_started', { callId: early, agentId: 'agent_late' }))).body.id,
      (await p.deliver(sampleChatBody({ chatId, agentId: 'agent_late' }, 'chat_started'))).body.id,
    ];
    await p.settled(ids);
    expect((await findCallSession(t.db, early))!.company_id).toBeNull();

    expect((await tenants('company', 'add', 'Praxis Dr. Weber')).code).toBe(0);
    const mapped = await tenants('agent', 'map', 'agent_late', 'Praxis Dr. Weber');
    expect(mapped.output).toContain('sessions given their company: 1 call(s), 1 chat(s)');
    expect((await findCallSession(t.db, early))!.company_id).toBe('1');
    expect((await findChatSession(t.db, chatId))!.company_id).toBe('1');

    // The worker heard the change: a new call of that agent gets the company at once.
    const next = newCallId();
    await until('the next call to have its company', async () => {
      const res = await p.deliver(body('call_started', { callId: next, agentId: 'agent_late' }));
      await p.settled([res.body.id]);
      return (await findCallSession(t.db, next))?.company_id === '1' ? true : undefined;
    });
  });

  it('an inbound call of an unmapped agent takes the company of the number it called; outbound, of its caller ID', async () => {
    expect((await tenants('company', 'add', 'Autohaus Nord')).code).toBe(0);
    expect((await tenants('number', 'map', '+493033081738', 'Autohaus Nord')).code).toBe(0);
    const inbound = newCallId();
    const outbound = newCallId();
    const other = newCallId();
    const rows = [
      await p.deliver(body('call_started', { callId: inbound, agentId: 'agent_unmapped', toNumber: '+493033081738' })),
      await p.deliver(
        body('call_started', {
          callId: outbound,
          agentId: 'agent_unmapped',
          direction: 'outbound',
          fromNumber: '+493033081738',
          toNumber: '+491701234567',
        }),
      ),
      await p.deliver(body('call_started', { callId: other, agentId: 'agent_unmapped', toNumber: '+4940999999' })),
    ];
    await p.settled(rows.map((r) => r.body.id));
    expect((await findCallSession(t.db, inbound))!.company_id).toBe('1');
    expect((await findCallSession(t.db, outbound))!.company_id).toBe('1');
    expect((await findCallSession(t.db, other))!.company_id).toBeNull();
  });
});

describe('per tenant', () => {
  it('make stats and make replay take --company', async () => {
    expect((await tenants('company', 'add', 'Praxis Dr. Weber')).code).toBe(0);
    expect((await tenants('agent', 'map', 'agent_weber', 'Praxis Dr. Weber')).code).toBe(0);
    const mine = newCallId('weber');
    const theirs = newCallId('other');
    const ids = [
      (await p.deliver(body('call_started', { callId: mine, agentId: 'agent_weber' }))).body.id,
      (await p.deliver(body('call_ended', { callId: mine, agentId: 'agent_weber' }))).body.id,
      (await p.deliver(body('call_started', { callId: theirs, agentId: 'agent_other' }))).body.id,
    ];
    await p.settled(ids);
    await t.db.updateTable('webhook_events').set({ status: 'failed', error: 'boom' }).execute();
    const env = {
      DATABASE_URL: t.url,
      REDIS_URL: serviceUrls().redisUrl,
      RETELL_API_KEY: TEST_API_KEY,
      NODE_ENV: 'production',
    };

    const stats = run(CLI, env, ['stats', '--company', 'Praxis Dr. Weber', '--json']);
    expect(await stats.exited).toBe(0);
    const data = JSON.parse(stats.output());
    expect(data.company).toEqual({ id: '1', name: 'Praxis Dr. Weber' });
    expect(data.sessions).toEqual([{ kind: 'call', status: 'ended', sessions: 1 }]);
    expect(data.processing_rate.map((r: { event_type: string; total: number }) => [r.event_type, r.total])).toEqual([
      ['call_ended', 1],
      ['call_started', 1],
    ]);
    const unmapped = run(CLI, env, ['stats', '--company', 'unmapped', '--json']);
    expect(await unmapped.exited).toBe(0);
    expect(JSON.parse(unmapped.output()).sessions).toEqual([{ kind: 'call', status: 'in_progress', sessions: 1 }]);
    const unknown = run(CLI, env, ['stats', '--company', 'Nobody']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.output()).toContain('unknown company "Nobody"');

    const replay = run(CLI, env, ['replay', '--company', '1', '--dry-run']);
    expect(await replay.exited).toBe(0);
    expect(replay.output()).toMatch(/^2 event\(s\) to replay \(status failed, company 1, last 24h\)/m);
    expect(replay.output()).toContain(mine);
    expect(replay.output()).not.toContain(theirs);
  });
});
