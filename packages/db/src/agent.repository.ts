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

/** The tenant of a phone number's calls, or null when the number is not mapped. */
export async function findCompanyIdForNumber(db: Db, phoneNumber: string): Promise<string | null> {
  const row = await db
    .selectFrom('retell_phone_numbers')
    .select('company_id')
    .where('phone_number', '=', phoneNumber)
    .executeTakeFirst();
  return row?.company_id ?? null;
}
