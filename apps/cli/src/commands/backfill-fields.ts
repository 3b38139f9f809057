import { parseArgs } from 'node:util';
import type { ProcessConfig } from '@callsync/config';

type Config = ProcessConfig<'cli'>;
import { backfillSessionFields, createDb } from '@callsync/db';

export const BACKFILL_FIELDS_USAGE = `usage: make backfill-fields [ARGS="..."]

Copy the fields people query (call_successful, user_sentiment, in_voicemail, call_summary, custom_analysis_data,
telephony_identifier, dynamic variables, latency, llm_token_usage) into call sessions stored before they were
columns, from each session's analysis and its newest call_ended/call_analyzed payload that retention has not pruned.
\`make migrate\` runs it once after migration 0007; it is here to run again, e.g. after a rolling deploy in which an
older worker wrote sessions.

  --all          recompute every session, not only those never filled
  --batch <n>    sessions per statement (default 2000)`;

/** `make backfill-fields`: the batched backfill of migration 0007, by hand. */
export async function backfillFieldsCommand(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      all: { type: 'boolean', default: false },
      batch: { type: 'string', default: '2000' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(BACKFILL_FIELDS_USAGE);
    return 0;
  }
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1) {
    console.error(`--batch must be a whole number of sessions above 0, got "${values.batch}"`);
    return 2;
  }
  const db = createDb({ url: config.database.url, poolSize: 1, applicationName: 'callsync-backfill' });
  try {
    const started = Date.now();
    const n = await backfillSessionFields(db, { all: values.all, batch });
    console.log(
      `[backfill-fields] ${n} call session(s) ${values.all ? 'recomputed' : 'filled'} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    return 0;
  } finally {
    await db.destroy();
  }
}
