import type { ProcessConfig } from '@callsync/config';

type Config = ProcessConfig<'cli'>;
import { createDb, migrateToLatest } from '@callsync/db';
import { migrations } from '@callsync/migrations';

/** `make migrate`: bring the database to the latest schema, printing each step. */
export async function migrateCommand(config: Config): Promise<number> {
  const db = createDb({ url: config.database.url, poolSize: 1, applicationName: 'callsync-migrate' });
  try {
    await migrateToLatest(db, migrations, (line) => console.log(`[migrate] ${line}`));
    return 0;
  } finally {
    await db.destroy();
  }
}
