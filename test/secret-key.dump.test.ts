import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { findCallSession } from '@callsync/db/sessions';
import { findDestination } from '@callsync/db/forward';
import { findCallerHashSalt } from '@callsync/db/privacy';
import { legacyCallerHash } from '@callsync/domain';
import { createLogger } from '@callsync/logger';
import { applyRetention } from '@callsync/worker';
import { useTestDatabase } from './support/database';
import { dumpData, numberForms } from './support/dump';
import { cliEnvironment } from './support/env';
import { TEST_KEYS } from './support/keys';
import { assertBuilt, CLI, run } from './support/processes';

/*
 * What a stolen `pg_dump --data-only` holds once a destination was added (and its secret rotated)
 * and retention pruned a session: no signing secret, and nothing a caller's number can be checked
 * against without CALLSYNC_SECRET_KEY (which is not in the database). Before the key, the dump held
 * the secrets in plain text and sha256(salt + ':' + number) with the salt next to it.
 */
const t = useTestDatabase();
const CALLER = '+491701234567';
beforeAll(() => assertBuilt());

async function cli(...args: string[]): Promise<string> {
  const p = run(CLI, cliEnvironment(t.url, `{callsync-dump-${randomUUID().slice(0, 8)}}`), args);
  const code = await p.exited;
  expect({ code, output: code === 0 ? '' : p.output() }).toEqual({ code: 0, output: '' });
  return p.output();
}

describe('a pg_dump of the database', () => {
  it('holds no destination secret and no caller hash that can be checked without the key', async () => {
    // As an operator does it: make destinations add prints the secret once; rotate-secret prints the new one.
    const added = await cli('destinations', 'add', 'https://crm.example.com/hooks/retell', '--events', 'call_analyzed');
    const first = /(whsec_\S+)/.exec(added)![1]!;
    const id = /destination (\d+) added/.exec(added)![1]!;
    const rotated = /(whsec_\S+)/.exec(await cli('destinations', 'rotate-secret', id))![1]!;
    expect(rotated).not.toBe(first);
    const stored = (await findDestination(t.db, id))!;
    expect(TEST_KEYS.decrypt(stored.secret)).toBe(rotated);
    expect(TEST_KEYS.decrypt(stored.previous_secret!)).toBe(first);

    // A call that ended long ago, pruned by retention.
    await sql`
      insert into retell_call_sessions (call_id, call_status, call_type, direction, from_number, to_number, started_at, ended_at)
      values ('dump_call', 'ended', 'phone_call', 'inbound', ${CALLER}, '+493033081738', now() - interval '101 days', now() - interval '100 days')`.execute(
      t.db,
    );
    const policy = { payloadDays: 30, eventRowDays: 180, sessionPiiDays: 90, failedPayloadDays: 14 };
    expect((await applyRetention(t.db, TEST_KEYS, createLogger({ silent: true }), policy)).sessionsPiiPruned).toBe(1);
    const salt = await findCallerHashSalt(t.db);
    const { caller_hash } = (await findCallSession(t.db, 'dump_call'))!;
    // With the key, the hash is still the caller's (returning callers are recognised).
    expect(caller_hash).toBe(TEST_KEYS.callerHash(CALLER, salt));

    const dump = await dumpData(t.url);
    // The dump is the real thing: it has the session's hash, the encrypted secrets, and the salt.
    expect(dump).toContain(caller_hash);
    expect(dump).toContain(stored.secret);
    expect(dump).toContain(salt);
    for (const secret of [first, rotated]) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice('whsec_'.length));
    }
    // The old scheme's hash, which anyone with the dump could compute for every number, is not there.
    expect(dump).not.toContain(legacyCallerHash(CALLER, salt));
    for (const form of numberForms(CALLER)) expect(dump).not.toContain(form);
  });
});
