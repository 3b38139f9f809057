import {
  addCompany,
  inheritNumberCompanies,
  mapAgent,
  mapNumber,
  updateCompanyCallerMemory,
  type CallerMemory,
} from '@callsync/db/tenants';
import {
  BUILTIN_FUNCTIONS,
  defaultHandlers,
  functionRegistry,
  invalidateTenantCache,
  processWebhookEventsBatch,
} from '@callsync/domain';
import { sampleCall, type FunctionRequestBody, type InboundCallRequest } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { newCallId } from './support/calls';
import { signedPost } from './support/live';
import { startPipeline, type Pipeline } from './support/pipeline';

/*
 * Caller memory stays within the company: what an agent hears of a caller's earlier calls (inbound
 * answers, functions) comes only from the same company's calls, as far as the company allows.
 */
const t = useTestDatabase();
const CALLER = '+491604366218';
const PRAXIS_A = '+493011111111';
const PRAXIS_B = '+493022222222';
const SECRET = 'Rezept Metformin 500 mg, Rückruf wegen Blutzucker';
let p: Pipeline;
let a: { id: string };
let b: { id: string };

beforeEach(async () => {
  await truncateAll(t.db);
  invalidateTenantCache();
  a = await addCompany(t.db, 'Praxis A', 'Europe/Berlin');
  b = await addCompany(t.db, 'Praxis B', 'Europe/Berlin');
  await mapNumber(t.db, PRAXIS_A, a.id);
  await mapNumber(t.db, PRAXIS_B, b.id);
  await mapAgent(t.db, 'agent_a', a.id);
  // One front-desk agent serves both practices' numbers: it inherits Praxis A (the first number).
  await t.db
    .updateTable('retell_phone_numbers')
    .set({ inbound_agent_id: 'agent_front_desk' })
    .where('phone_number', 'in', [PRAXIS_A, PRAXIS_B])
    .execute();
  await inheritNumberCompanies(t.db);
  p = await startPipeline(t.db, { worker: false, ingress: { functions: functionRegistry(BUILTIN_FUNCTIONS) } });
});
afterEach(() => p.close());

/** A finished, analyzed call of the caller with `summary`, applied. */
async function earlierCall(o: { agentId: string; toNumber: string; summary: string }): Promise<string> {
  const callId = newCallId('earlier');
  const call = sampleCall(
    { callId, agentId: o.agentId, fromNumber: CALLER, toNumber: o.toNumber, startMs: Date.now() - 86_400_000 },
    'call_analyzed',
  );
  call.call_analysis = { ...call.call_analysis, call_summary: o.summary };
  const res = await p.deliver(JSON.stringify({ event: 'call_analyzed', call }));
  await processWebhookEventsBatch(t.db, [res.body.id], defaultHandlers);
  return callId;
}

const inbound = (toNumber: string, agentId?: string) =>
  signedPost(p.app, '/api/retell/inbound', {
    event: 'call_inbound',
    call_inbound: { from_number: CALLER, to_number: toNumber, ...(agentId ? { agent_id: agentId } : {}) },
  } satisfies InboundCallRequest);

const history = (toNumber: string, agentId: string) =>
  signedPost(p.app, '/api/retell/functions/get_caller_history', {
    name: 'get_caller_history',
    args: {},
    call: sampleCall({ callId: newCallId('live'), agentId, fromNumber: CALLER, toNumber }, 'call_started'),
  } satisfies FunctionRequestBody);

describe('caller memory within the company', () => {
  it("practice B's inbound answer and functions never carry practice A's summary, whichever agent answers", async () => {
    await earlierCall({ agentId: 'agent_a', toNumber: PRAXIS_A, summary: SECRET });
    // Practice A itself remembers the caller.
    const atA = await inbound(PRAXIS_A, 'agent_front_desk');
    expect(atA.body.call_inbound.dynamic_variables).toMatchObject({
      company_name: 'Praxis A',
      caller_known: 'true',
      caller_last_summary: SECRET,
    });
    // The shared agent inherited Praxis A, but the call is on Praxis B's number: Praxis B's call.
    for (const res of [await inbound(PRAXIS_B, 'agent_front_desk'), await inbound(PRAXIS_B)]) {
      expect(res.body.call_inbound.dynamic_variables).toMatchObject({
        company_name: 'Praxis B',
        caller_known: 'false',
        caller_call_count: '0',
        caller_last_summary: '',
      });
      expect(JSON.stringify(res.body)).not.toContain('Metformin');
    }
    const fn = await history(PRAXIS_B, 'agent_front_desk');
    expect(fn.status).toBe(200);
    expect(fn.text).toMatch(/first call from \+491604366218 that we know of/);
    expect(fn.text).not.toContain('Metformin');
  });

  it('a call without a company recalls nothing once companies exist, not even calls without a company', async () => {
    const unmapped = '+493099999999';
    await earlierCall({ agentId: 'agent_unknown', toNumber: unmapped, summary: SECRET });
    const res = await inbound(unmapped, 'agent_unknown');
    expect(res.body.call_inbound.dynamic_variables).toMatchObject({
      company_name: '',
      caller_known: 'false',
      caller_last_summary: '',
    });
    expect((await history(unmapped, 'agent_unknown')).text).not.toContain('Metformin');
  });

  it('a deployment with no companies at all keeps memory across its calls', async () => {
    await truncateAll(t.db);
    invalidateTenantCache();
    await earlierCall({ agentId: 'agent_unknown', toNumber: PRAXIS_A, summary: SECRET });
    const res = await inbound(PRAXIS_A, 'agent_unknown');
    expect(res.body.call_inbound.dynamic_variables).toMatchObject({
      caller_known: 'true',
      caller_last_summary: SECRET,
    });
  });

  it.each([
    ['count', { caller_known: 'true', caller_call_count: '1', caller_last_summary: '' }, /called 1 time before/],
    ['off', { caller_known: 'false', caller_call_count: '0', caller_last_summary: '' }, /first call/],
  ] as const)(
    'caller_memory %s: the agent hears %j',
    async (memory: CallerMemory, variables: Record<string, string>, sentence: RegExp) => {
      await updateCompanyCallerMemory(t.db, a.id, memory);
      await earlierCall({ agentId: 'agent_a', toNumber: PRAXIS_A, summary: SECRET });
      const res = await inbound(PRAXIS_A, 'agent_a');
      expect(res.body.call_inbound.dynamic_variables).toMatchObject(variables);
      const fn = await history(PRAXIS_A, 'agent_a');
      expect(fn.text).toMatch(sentence);
      expect(JSON.stringify(res.body) + fn.text).not.toContain('Metformin');
    },
  );
});
