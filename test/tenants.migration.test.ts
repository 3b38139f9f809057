import { Migrator, sql } from 'kysely';
import { migrateToLatest } from '@callsync/db';
import { addCompany, listTenants } from '@callsync/db/tenants';
import { migrations } from '@callsync/migrations';
import { useTestDatabase } from './support/database';

/** Migration 0008 on a database that already maps agents to company ids (the seed's "Company ID: 1"). */
const t = useTestDatabase();

describe('migration 0008 (tenants)', () => {
  it('turns company ids already in retell_agents into companies, keeping every mapping', async () => {
    const migrator = new Migrator({ db: t.db, provider: { getMigrations: async () => migrations } });
    // Back to the schema before tenants.
    const down = await migrator.migrateTo('2026_11_24_0007_every_delivery');
    expect(down.error).toBeUndefined();
    expect(down.results?.map((r) => r.migrationName)).toContain('2026_11_24_0008_tenants');
    await sql`insert into retell_agents (agent_id, company_id, name) values ('agent_a', 7, 'Empfang'), ('agent_b', 7, null), ('agent_c', 1, null)`.execute(
      t.db,
    );

    await migrateToLatest(t.db, migrations);
    const tenants = await listTenants(t.db);
    expect(tenants.companies.map((c) => [c.id, c.name, c.time_zone])).toEqual([
      ['1', 'Company 1', 'UTC'],
      ['7', 'Company 7', 'UTC'],
    ]);
    expect(tenants.agents.map((a) => [a.agent_id, a.company_id, a.company_source])).toEqual([
      ['agent_a', '7', 'agent'],
      ['agent_b', '7', 'agent'],
      ['agent_c', '1', 'agent'],
    ]);
    // New companies continue after the highest id.
    expect((await addCompany(t.db, 'Praxis Dr. Weber', 'Europe/Berlin')).id).toBe('8');
  });
});
