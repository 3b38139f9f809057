import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { findDestination } from '@callsync/db/forward';
import { findCallerHashSalt, rewrapLegacyCallerHashes } from '@callsync/db/privacy';
import {
  answerInbound,
  applySecretKey,
  legacyCallerHash,
  parseCall,
  resolveCallContext,
  type InboundRouting,
} from '@callsync/domain';
import { sampleCall } from '@callsync/retell';
import { truncateAll, useTestDatabase } from './support/database';
import { dumpData } from './support/dump';
import { newCallId } from './support/calls';
import { cliEnvironment } from './support/env';
import { TEST_KEYS } from './support/keys';
import { assertBuilt, CLI, run } from './support/processes';

/*
 * Upgrading a database from before CALLSYNC_SECRET_KEY: `make migrate` rewraps the caller hashes
 * retention stored (sha256 of salt and number) into the keyed form without knowing the numbers, and
 * encrypts the destination secrets stored in plain text. Twice is once; a run cut short resumes.
 */
const t = useTestDatabase();
const CALLER = '+491701234567';
const OTHER = '+491609876543';
const NUMBER = '+493033081738';
const PLAIN = 'whsec_K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pwM=';
const PLAIN_PREVIOUS = 'whsec_QBaQE3nOQUJIQUYMHx59a3LM9xK4Ns0WsYUmkTsFbnU=';
beforeAll(() => assertBuilt());
beforeEach(() => truncateAll(t.db));

/** A session retention pruned before the key, as the old release left it: the legacy hash, no number. */
async function prunedBeforeTheKey(callId: string, number: string, summary: string): Promise<void> {
  const salt = await findCallerHashSalt(t.db);
  await sql`
    insert into retell_call_sessions (call_id, call_status, call_type, direction, caller_hash, call_summary, started_at, ended_at, pii_pruned_at)
    values (${callId}, 'ended', 'phone_call', 'inbound', ${legacyCallerHash(number, salt)}, ${summary},
            now() - interval '101 days', now() - interval '100 days', now() - interval '10 days')`.execute(t.db);
}

async function migrate(): Promise<string> {
  const p = run(CLI, cliEnvironment(t.url, `{callsync-migrate-${randomUUID().slice(0, 8)}}`), ['migrate']);
  const code = await p.exited;
  expect({ code, output: code === 0 ? '' : p.output() }).toEqual({ code: 0, output: '' });
  return p.output();
}

const callerState = () =>
  t.db.selectFrom('retell_call_sessions').select(['call_id', 'caller_hash']).orderBy('call_id').execute();
const secretState = () =>
  t.db.selectFrom('forward_destinations').select(['id', 'secret', 'previous_secret']).orderBy('id').execute();

async function inbound(): Promise<Record<string, string>> {
  const d = await answerInbound(t.db, TEST_KEYS, { from_number: CALLER, to_number: NUMBER });
  return (d.answer as InboundRouting).dynamic_variables;
}

describe('make migrate with CALLSYNC_SECRET_KEY', () => {
  it('rewraps caller hashes from before the key, so a returning caller is still recognised, and encrypts plain secrets; a second run changes nothing', async () => {
    await prunedBeforeTheKey('before_1', CALLER, 'Rezept Metformin');
    await prunedBeforeTheKey('before_2', OTHER, 'Termin');
    await sql`
      insert into forward_destinations (url, events, secret, previous_secret, previous_secret_expires_at)
      values ('https://crm.example.com/hook', '{call_analyzed}', ${PLAIN}, ${PLAIN_PREVIOUS}, now() + interval '1 hour')`.execute(
      t.db,
    );
    // Until the migration runs, the keyed lookup does not find the legacy hash.
    expect(await inbound()).toMatchObject({ caller_known: 'false' });

    const out = await migrate();
    expect(out).toContain(`rewrapped 2 caller hashes from before the secret key (key ${TEST_KEYS.keyId})`);
    expect(out).toContain(`encrypted 2 destination secrets with key ${TEST_KEYS.keyId}`);

    // The returning caller is recognised: inbound answer and call context.
    expect(await inbound()).toMatchObject({
      caller_known: 'true',
      caller_call_count: '1',
      caller_last_summary: 'Rezept Metformin',
    });
    const live = parseCall({
      call: sampleCall({ callId: newCallId(), fromNumber: CALLER, toNumber: NUMBER }, 'call_started'),
    });
    const context = await resolveCallContext(t.db, TEST_KEYS, live.call_id, { call: live, at: new Date() });
    expect(context!.caller).toMatchObject({ known: true, call_count: 1, last_summary: 'Rezept Metformin' });

    const salt = await findCallerHashSalt(t.db);
    expect(await callerState()).toEqual([
      { call_id: 'before_1', caller_hash: TEST_KEYS.callerHash(CALLER, salt) },
      { call_id: 'before_2', caller_hash: TEST_KEYS.callerHash(OTHER, salt) },
    ]);
    const [destination] = await secretState();
    expect(TEST_KEYS.decrypt(destination!.secret)).toBe(PLAIN);
    expect(TEST_KEYS.decrypt(destination!.previous_secret!)).toBe(PLAIN_PREVIOUS);
    const dump = await dumpData(t.url);
    for (const gone of [PLAIN, PLAIN_PREVIOUS, legacyCallerHash(CALLER, salt), legacyCallerHash(OTHER, salt)])
      expect(dump).not.toContain(gone);

    // Again: nothing to do, nothing changes (no hash wrapped twice, no secret encrypted again).
    const hashes = await callerState();
    const secrets = await secretState();
    expect(await migrate()).toContain(
      `caller hashes and destination secrets are under the secret key (key ${TEST_KEYS.keyId})`,
    );
    expect(await callerState()).toEqual(hashes);
    expect(await secretState()).toEqual(secrets);
    expect((await findDestination(t.db, destination!.id))!.secret).toBe(destination!.secret);
  });

  it('resumes a rewrap cut short, without wrapping any hash twice', async () => {
    const numbers = ['+491700000001', '+491700000002', '+491700000003', '+491700000004', '+491700000005'];
    for (const [i, n] of numbers.entries()) await prunedBeforeTheKey(`cut_${i}`, n, 'x');
    let calls = 0;
    // The process dies in the second batch of two: the first batch is committed, the second rolled back.
    await expect(
      rewrapLegacyCallerHashes(
        t.db,
        (legacy) => {
          if (++calls === 3) throw new Error('killed mid-batch');
          return TEST_KEYS.rewrapLegacyCallerHash(legacy);
        },
        2,
      ),
    ).rejects.toThrow('killed mid-batch');
    const salt = await findCallerHashSalt(t.db);
    expect((await callerState()).map((r) => r.caller_hash)).toEqual([
      TEST_KEYS.callerHash(numbers[0], salt),
      TEST_KEYS.callerHash(numbers[1], salt),
      legacyCallerHash(numbers[2]!, salt),
      legacyCallerHash(numbers[3]!, salt),
      legacyCallerHash(numbers[4]!, salt),
    ]);

    expect(await applySecretKey(t.db, TEST_KEYS, { batch: 2 })).toEqual({
      callerHashesRewrapped: 3,
      secretsEncrypted: 0,
      expiredSecretsRemoved: 0,
    });
    expect((await callerState()).map((r) => r.caller_hash)).toEqual(numbers.map((n) => TEST_KEYS.callerHash(n, salt)));
  });
});
