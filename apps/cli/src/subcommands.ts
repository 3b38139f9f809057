import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ProcessConfig } from '@callsync/config';
import { createDb, type Db } from '@callsync/db';

/** What the frame reads (the database); a command's own run gets the config it was given. */
type Config = ProcessConfig<'cli'>;

/** A mistake in how a command was called; printed without a stack, exit code 2. */
export class UsageError extends Error {}

export type SubcommandValues = Record<string, string | boolean | undefined>;

export interface SubcommandSpec<C extends Config = Config> {
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Shown in pg_stat_activity. */
  applicationName: string;
  run: (db: Db, config: C, positionals: string[], values: SubcommandValues) => Promise<number>;
  /** The exit code and message for a failure the command expects (a bad file, an API error); else undefined. */
  explain?: (err: unknown) => { code: number; message: string } | undefined;
}

/**
 * The frame of a command with subcommands (`make tenants`, `make destinations`): parse the flags
 * (usage on a bad one, or on none), open the database, run, and turn expected errors into a message
 * and an exit code.
 */
export async function runSubcommands<C extends Config>(
  config: C,
  argv: string[],
  spec: SubcommandSpec<C>,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...spec.options, help: { type: 'boolean', short: 'h', default: false } },
    });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${spec.usage}`);
    return 2;
  }
  if (parsed.values.help || parsed.positionals.length === 0) {
    console.log(spec.usage);
    return parsed.values.help ? 0 : 2;
  }
  // An operator's command never queues behind the apply path for long, nor holds locks if it hangs:
  // a lock not free within 10 s, or a statement over 5 min, ends the command with Postgres's error.
  const db = createDb({
    url: config.database.url,
    poolSize: 2,
    applicationName: spec.applicationName,
    connectTimeoutMs: 10_000,
    lockTimeoutMs: 10_000,
    statementTimeoutMs: 300_000,
    idleInTransactionTimeoutMs: 60_000,
  });
  try {
    return await spec.run(db, config, parsed.positionals, parsed.values as SubcommandValues);
  } catch (err) {
    const known = spec.explain?.(err) ?? (err instanceof UsageError ? { code: 2, message: err.message } : undefined);
    if (!known) throw err;
    console.error(known.message);
    return known.code;
  } finally {
    await db.destroy();
  }
}
