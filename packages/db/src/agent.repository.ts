import { sql } from 'kysely';
import type { Db } from './database';

/** The tenant of an agent's calls, or null when the agent is not registered. */
export async function findCompanyIdForAgent(db: Db, agentId: string): Promise<string | null> {
  const row = await db
    .selectFrom('retell_agents')
    .select('company_id')
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
  return row?.company_id ?? null;
}

export async function upsertAgent(
  db: Db,
  agent: { agentId: string; companyId: number | string; name?: string },
): Promise<void> {
  await db
    .insertInto('retell_agents')
    .values({ agent_id: agent.agentId, company_id: agent.companyId, name: agent.name ?? null })
    .onConflict((oc) =>
      oc.column('agent_id').doUpdateSet((eb) => ({
        company_id: eb.ref('excluded.company_id'),
        name: eb.ref('excluded.name'),
        updated_at: sql<Date>`now()`,
      })),
    )
    .execute();
}
