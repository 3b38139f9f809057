import { randomUUID } from 'node:crypto';
import { useTestDatabase } from './support/database';
import { cliEnvironment } from './support/env';
import { assertBuilt, CLI, run } from './support/processes';

/*
 * A destination's URL may carry its credentials (a password, a token in the query). What `make
 * destinations` prints shows them as ***; the destination still gets the URL as it was added.
 */
const t = useTestDatabase();
beforeAll(() => assertBuilt());

async function cli(...args: string[]): Promise<string> {
  const p = run(CLI, cliEnvironment(t.url, `{callsync-mask-${randomUUID().slice(0, 8)}}`), args);
  const code = await p.exited;
  expect({ code, output: code === 0 ? '' : p.output() }).toEqual({ code: 0, output: '' });
  return p.output();
}

describe('make destinations', () => {
  it('masks the credentials in URLs it prints (add, list), and keeps them for sending', async () => {
    const url = 'https://crm:hunter2@crm.example.com/hook?account=42&api_key=k3y-0f-the-crm&token=t0k3n';
    const added = await cli('destinations', 'add', url, '--events', 'call_analyzed');
    const list = await cli('destinations', 'list');
    for (const out of [added, list]) {
      expect(out).toContain('https://crm:***@crm.example.com/hook?account=42&api_key=***&token=***');
      for (const secret of ['hunter2', 'k3y-0f-the-crm', 't0k3n']) expect(out).not.toContain(secret);
    }
    const stored = await t.db.selectFrom('forward_destinations').select('url').executeTakeFirstOrThrow();
    expect(stored.url).toBe(url);
  });
});
