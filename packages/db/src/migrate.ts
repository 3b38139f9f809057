import { type Migration, Migrator, type MigrationResultSet } from 'kysely';
import { completeDataMigrations } from './data-migrations';
import type { Db } from './database';

/**
 * Bring the schema to the latest migration, then finish the data steps that cannot run inside a
 * migration's transaction (batched backfills, indexes built concurrently). Throws (after reporting
 * each step) on the first error.
 */
export async function migrateToLatest(
  db: Db,
  migrations: Record<string, Migration>,
  report: (line: string) => void = () => {},
): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const result = await migrator.migrateToLatest();
  for (const r of result.results ?? []) {
    report(`${r.status === 'Success' ? 'applied' : r.status === 'Error' ? 'FAILED ' : 'skipped'} ${r.migrationName}`);
  }
  if (result.error) {
    throw new Error(
      `migration failed: ${result.error instanceof Error ? result.error.message : String(result.error)}`,
      {
        cause: result.error,
      },
    );
  }
  if (!result.results?.length) report('schema is up to date');
  const done = await completeDataMigrations(db);
  if (done.callIdsFilled) report(`filled call_id on ${done.callIdsFilled} earlier webhook_events rows`);
  if (done.sessionFieldsFilled)
    report(`copied analysis and call fields into ${done.sessionFieldsFilled} earlier call sessions`);
  return result;
}
