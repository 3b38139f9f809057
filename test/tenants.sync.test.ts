import { findCallSession } from '@callsync/db/sessions';
import { listTenants, mapAgent, mapNumber, addCompany } from '@callsync/db/tenants';
import { afterMappingChange, syncTenantsFromRetell } from '@callsync/domain';
import { truncateAll, useTestDatabase } from './support/database';
import { body, newCallId } from './support/calls';
import { retellCliEnvironment } from './support/env';
import { startFakeRetell } from './support/fake-retell';
import { startPipeline } from './support/pipeline';
import { assertBuilt, CLI, run } from './support/processes';

/** make tenants sync: agents and phone numbers from (the fake) Retell's list endpoints. */
const t = useTestDatabase();
let f: Awaited<ReturnType<typeof startFakeRetell>>;
beforeAll(() => assertBuilt());
beforeEach(async () => {
  await truncateAll(t.db);
  f = await startFakeRetell({ maxRetries: 3, backoffMs: 10 });
});
afterEach(() => f.fake.stop());

const agent = (i: number) => ({
  agent_id: `agent_${String(i).padStart(5, '0')}`,
  agent_name: `Agent ${i}`,
  channel: i % 10 === 0 ? 'chat' : 'voice',
  version: i % 7,
});

describe('sync from Retell', () => {
  it('pages through 2,500 agents, through a 429 and a 500, and a second run adds nothing', async () => {
    for (let i = 0; i < 2500; i++) f.fake.agents.set(agent(i).agent_id, agent(i));
    f.fake.behave('list-agents', { status: 429, retryAfterMs: 20, times: 1 });
    f.fake.behave('list-phone-numbers', { status: 500, times: 1 });
    const first = await syncTenantsFromRetell(t.db, f.client);
    expect(first).toMatchObject({ agents: 2500, newAgents: 2500, numbers: 0, newNumbers: 0 });
    const pages = f.fake.requests.filter((r) => r.path.startsWith('/v2/list-agents'));
    // 3 pages of 1,000, plus the throttled first try.
    expect(pages.map((r) => r.status)).toEqual([429, 200, 200, 200]);
    const { agents } = await listTenants(t.db);
    expect(agents).toHaveLength(2500);
    expect(agents[10]).toMatchObject({
      agent_id: 'agent_00010',
      name: 'Agent 10',
      agent_type: 'chat',
      agent_version: 3,
    });
    expect(agents.every((a) => a.company_id === null && a.synced_at instanceof Date)).toBe(true);

    const second = await syncTenantsFromRetell(t.db, f.client);
    expect(second).toMatchObject({ agents: 2500, newAgents: 0, inherited: 0 });
  });

  it('records bound agents, and mapping a number maps them unless they are mapped for themselves', async () => {
    f.fake.agents.set('agent_front', { agent_id: 'agent_front', agent_name: 'Empfang', channel: 'voice' });
    f.fake.agents.set('agent_sms', { agent_id: 'agent_sms', agent_name: 'SMS', channel: 'chat' });
    f.fake.agents.set('agent_own', { agent_id: 'agent_own', agent_name: 'Eigen', channel: 'voice' });
    f.fake.phoneNumbers.set('+493033081738', {
      phone_number: '+493033081738',
      nickname: 'Praxis',
      inbound_agents: [{ agent_id: 'agent_front', weight: 1 }],
      outbound_agents: [{ agent_id: 'agent_own', weight: 1 }],
      inbound_sms_agents: [{ agent_id: 'agent_sms', weight: 1 }],
    });
    f.fake.phoneNumbers.set('not-a-number', { phone_number: 'not-a-number' });
    const s = await syncTenantsFromRetell(t.db, f.client);
    expect(s).toMatchObject({ agents: 3, numbers: 2, newNumbers: 1, skippedNumbers: ['not-a-number'] });
    expect((await listTenants(t.db)).numbers).toEqual([
      expect.objectContaining({
        phone_number: '+493033081738',
        nickname: 'Praxis',
        inbound_agent_id: 'agent_front',
        outbound_agent_id: 'agent_own',
        agent_ids: ['agent_front', 'agent_own', 'agent_sms'],
        company_id: null,
      }),
    ]);

    // A call to the front-desk agent before anything is mapped.
    const p = await startPipeline(t.db);
    const callId = newCallId();
    try {
      await p.settled([(await p.deliver(body('call_started', { callId, agentId: 'agent_front' }))).body.id]);
    } finally {
      await p.close();
    }
    const praxis = await addCompany(t.db, 'Praxis', 'Europe/Berlin');
    const other = await addCompany(t.db, 'Andere', 'UTC');
    await mapAgent(t.db, 'agent_own', other.id);
    await mapNumber(t.db, '+493033081738', praxis.id);
    expect(await afterMappingChange(t.db)).toEqual({ calls: 1, chats: 0 });
    const agents = new Map((await listTenants(t.db)).agents.map((a) => [a.agent_id, a]));
    expect(agents.get('agent_front')).toMatchObject({ company_id: praxis.id, company_source: 'number' });
    expect(agents.get('agent_sms')).toMatchObject({ company_id: praxis.id, company_source: 'number' });
    expect(agents.get('agent_own')).toMatchObject({ company_id: other.id, company_source: 'agent' });
    expect((await findCallSession(t.db, callId))!.company_id).toBe(praxis.id);

    // A later sync keeps the mappings.
    await syncTenantsFromRetell(t.db, f.client);
    expect((await listTenants(t.db)).agents.find((a) => a.agent_id === 'agent_front')?.company_id).toBe(praxis.id);
  });

  it('make tenants ARGS=sync prints what it pulled, and names the failure when Retell keeps failing', async () => {
    f.fake.agents.set('agent_a', { agent_id: 'agent_a', agent_name: 'A', channel: 'voice' });
    const env = retellCliEnvironment(t.url, f.baseUrl);
    const ok = run(CLI, env, ['tenants', 'sync']);
    expect(await ok.exited).toBe(0);
    expect(ok.output()).toContain('agents: 1 listed, 1 new');
    f.fake.behave('list-phone-numbers', { status: 500 });
    const failed = run(CLI, env, ['tenants', 'sync']);
    expect(await failed.exited).toBe(1);
    expect(failed.output()).toMatch(/sync failed: GET \/v2\/list-phone-numbers\S* failed after \d+ tries: status 500/);
  });
});
