import { findCompanyIdForAgent, type Db } from '@callsync/db';

/** How long an agent's tenant is remembered. A newly registered or moved agent applies within this. */
export const AGENT_CACHE_TTL_MS = 60_000;

// One process talks to one database, so agent ids are a sufficient key.
const cache = new Map<string, { companyId: string | null; until: number }>();

/**
 * The tenant of an agent's calls, remembered for a minute: every event of every call asks, and
 * agents change rarely, so this saves a query per event on the hot path.
 */
export async function companyIdForAgent(db: Db, agentId: string, now = Date.now()): Promise<string | null> {
  const hit = cache.get(agentId);
  if (hit && hit.until > now) return hit.companyId;
  const companyId = await findCompanyIdForAgent(db, agentId);
  if (cache.size > 10_000) cache.clear();
  cache.set(agentId, { companyId, until: now + AGENT_CACHE_TTL_MS });
  return companyId;
}
