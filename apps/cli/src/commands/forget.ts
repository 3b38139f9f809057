import { parseArgs } from 'node:util';
import type { Config } from '@callsync/config';
import { createDb } from '@callsync/db';
import { E164 } from '@callsync/db/tenants';
import { forget, type ForgetTarget } from '@callsync/domain';
import { retellClient } from '../retell-client';
import { table } from '../table';

export const FORGET_USAGE = `usage: make forget ARGS="--caller +4916012345678 [--local-only]"
       make forget ARGS="--call-id ID [--call-id ID2 ...] [--local-only]"

Erase one caller (every call from or to their number) or chosen calls and chats, on request (GDPR
Art. 17): numbers, transcripts, recordings, summaries and analyses, variables, metadata, event
payloads and raw bodies, function call args and results, transfer destinations, inbound records and
forwarded bodies (unsent deliveries are cancelled). Rows stay with their ids, statuses and counts.
A delivery that arrives later for an erased call is stored but not applied. Then Retell is asked to
delete the calls (DELETE /v2/delete-call) unless --local-only. Running it again changes nothing.
Exits 1 if Retell could not delete a call (run it again with --call-id for those).`;

/** `make forget`: erase one caller or chosen calls. */
export async function forgetCommand(
  config: Config,
  argv: string[],
  callerHashes: (n: string) => Promise<string[]>,
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        caller: { type: 'string' },
        'call-id': { type: 'string', multiple: true },
        'local-only': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${FORGET_USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(FORGET_USAGE);
    return 0;
  }
  const ids = (values['call-id'] ?? [])
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);
  if (!values.caller === (ids.length === 0)) {
    console.error(`say whom to forget: --caller NUMBER, or --call-id ID\n\n${FORGET_USAGE}`);
    return 2;
  }
  if (values.caller !== undefined && !E164.test(values.caller)) {
    console.error(`--caller must be an E.164 number like +4916012345678 (got "${values.caller}")`);
    return 2;
  }
  const target: ForgetTarget = values.caller
    ? { caller: values.caller, callerHashes: await callerHashes(values.caller) }
    : { ids };
  const db = createDb({ url: config.database.url, poolSize: 2, applicationName: 'callsync-forget' });
  try {
    const localOnly = values['local-only'];
    const report = await forget({ db, retell: localOnly ? undefined : retellClient(config) }, target, { localOnly });
    const what = values.caller ? 'the caller' : `${ids.length} id(s)`;
    console.log(
      `erasure ${report.erasureId}: ${what}: ${report.calls.length} call(s), ${report.chats.length} chat(s)` +
        (report.calls.length ? `\n  calls: ${report.calls.join(', ')}` : '') +
        (report.chats.length ? `\n  chats: ${report.chats.join(', ')}` : ''),
    );
    console.log('\nremoved (rows that held personal data)');
    console.log(
      table(
        Object.entries(report.removed).map(([t, rows]) => ({ table: t, rows })),
        ['table', 'rows'],
      ),
    );
    const r = report.retell;
    if (r.skipped) console.log('\nRetell: not asked (--local-only); the calls and recordings stay at Retell');
    else {
      console.log(
        `\nRetell (DELETE /v2/delete-call): deleted ${r.deleted.length}, already gone ${r.unknown.length}, failed ${r.failed.length}`,
      );
      for (const f of r.failed) console.log(`  ${f.callId}: ${f.error}`);
    }
    return r.failed.length ? 1 : 0;
  } finally {
    await db.destroy();
  }
}
