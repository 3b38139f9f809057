import type { Retell } from 'retell-sdk';
import { FakeRetell } from '@callsync/fake-retell';
import { TEST_API_KEY } from './support/env';
import { assertBuilt, CLI, run } from './support/processes';

/**
 * make functions: the code's functions as Retell custom tools (export), compared with an LLM at
 * Retell (check) and written into it (push), against the fake Retell's get-retell-llm and
 * update-retell-llm, through retell-sdk's own client.
 */
const BASE = 'https://live.callsync.example';
let fake: FakeRetell;
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  fake = new FakeRetell({ apiKeys: [TEST_API_KEY] });
  const baseUrl = await fake.start();
  env = {
    // check and push read the environment; the database and Redis are never contacted.
    DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none',
    REDIS_URL: 'redis://127.0.0.1:9',
    RETELL_API_KEY: TEST_API_KEY,
    RETELL_API_BASE_URL: baseUrl,
    NODE_ENV: 'production',
  };
});
afterAll(() => fake.stop());

async function cli(...args: string[]) {
  const p = run(CLI, env, ['functions', ...args]);
  const code = await p.exited;
  return { code, out: p.output() };
}

type Tool = Retell.LlmResponse.CustomTool;

describe('make functions', () => {
  it('export prints every registered function as a Retell custom tool, its parameters from the zod schema', async () => {
    const { code, out } = await cli('export', '--base-url', `${BASE}/`);
    expect(code).toBe(0);
    const tools = JSON.parse(out) as Tool[];
    expect(tools.map((t) => t.name)).toEqual([
      'get_call_context',
      'get_caller_history',
      'get_pending_result',
      'check_availability',
    ]);
    const pending = tools.find((t) => t.name === 'get_pending_result')!;
    expect(pending).toMatchObject({
      type: 'custom',
      url: `${BASE}/api/retell/functions/get_pending_result`,
      method: 'POST',
      speak_during_execution: false,
      parameters: { type: 'object', properties: { name: { type: 'string', maxLength: 64 } } },
    });
    for (const t of tools) {
      expect(t.timeout_ms).toBeGreaterThanOrEqual(1000);
      expect(t.parameters).not.toHaveProperty('$schema');
    }
    // Default hard timeout 8 s, plus the margin so callsync always answers before Retell gives up.
    expect(tools.find((t) => t.name === 'get_call_context')!.timeout_ms).toBe(9000);
  });

  it('check names every drift and exits 1; push writes the tools and keeps the others; check then exits 0', async () => {
    const exported = JSON.parse((await cli('export', '--base-url', BASE)).out) as Tool[];
    const [ctx, history, pending, availability] = exported;
    const endCall: Retell.LlmResponse.EndCallTool = { type: 'end_call', name: 'end_call', description: 'Hang up.' };
    fake.setLlm({
      llm_id: 'llm_praxis',
      version: 3,
      general_tools: [
        endCall,
        { ...ctx!, url: 'https://old.example/api/retell/functions/get_call_context' },
        { ...history!, timeout_ms: 120_000 },
        { ...availability!, parameters: { type: 'object', properties: {} } },
        { ...pending!, name: 'retired_tool', url: `${BASE}/api/retell/functions/retired_tool` },
      ],
    });
    const check = await cli('check', '--llm', 'llm_praxis', '--base-url', BASE);
    expect(check.code).toBe(1);
    expect(check.out).toContain('drift: get_call_context: URL differs');
    expect(check.out).toContain('drift: get_caller_history: timeout_ms differs: Retell has 120000, the code 9000');
    expect(check.out).toContain('drift: check_availability: parameters schema differs');
    expect(check.out).toContain('drift: get_pending_result: missing at Retell');
    expect(check.out).toContain('drift: retired_tool: at Retell, but no function of that name is registered here');

    const push = await cli('push', '--llm', 'llm_praxis', '--base-url', BASE);
    expect(push.code).toBe(0);
    const llm = fake.llms.get('llm_praxis')!;
    expect(llm.general_tools).toEqual([endCall, ctx, history, availability, pending]);
    expect(fake.requests.filter((r) => r.path.includes('retell-llm')).map((r) => [r.method, r.path, r.status])).toEqual(
      [
        ['GET', '/get-retell-llm/llm_praxis', 200],
        ['GET', '/get-retell-llm/llm_praxis', 200],
        ['PATCH', '/update-retell-llm/llm_praxis', 200],
      ],
    );
    const again = await cli('check', '--llm', 'llm_praxis', '--base-url', BASE);
    expect([again.code, again.out.trim()]).toEqual([0, 'LLM llm_praxis has all 4 tools as the code defines them']);
  });

  it('names an unknown LLM and a missing --llm', async () => {
    const unknown = await cli('check', '--llm', 'llm_nope', '--base-url', BASE);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('cannot read LLM llm_nope from Retell');
    const missing = await cli('push', '--base-url', BASE);
    expect([missing.code, missing.out]).toEqual([2, expect.stringContaining('push needs --llm LLM_ID')]);
  });
});
