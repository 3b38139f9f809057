import type { Db } from './database';

/** The tenant of an agent's calls, or null when the agent is not mapped. */
export async function findCompanyIdForAgent(db: Db, agentId: string): Promise<string | null> {
  const row = await db
    .selectFrom('retell_agents')
    .select('company_id')
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
  return row?.company_id ?? null;
}

/**
 * An agent's company and where it comes from: `agent` (mapped for itself) or `number` (inherited
 * from a number it is bound to); null when the agent is unknown.
 */
export async function findAgentCompany(
  db: Db,
  agentId: string,
): Promise<{ companyId: string | null; source: 'agent' | 'number' | null } | null> {
  const row = await db
    .selectFrom('retell_agents')
    .select(['company_id', 'company_source'])
    .where('agent_id', '=', agentId)
    .executeTakeFirst();
  return row ? { companyId: row.company_id, source: row.company_source } : null;
}

/** The tenant of a phone number's calls, or null when the number is not mapped. */
export async function findCompanyIdForNumber(db: Db, phoneNumber: string): Promise<string | null> {
  const row = await db
    .selectFrom('retell_phone_numbers')
    .select('company_id')
    .where('phone_number', '=', phoneNumber)
    .executeTakeFirst();
  return row?.company_id ?? null;
}
