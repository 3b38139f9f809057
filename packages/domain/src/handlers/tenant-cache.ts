import { findCompanyIdForAgent, findCompanyIdForNumber, type Db } from '@callsync/db';

/*
 * Which company a call or chat belongs to: its agent's, else its number's (to_number inbound,
 * from_number outbound). Every event asks, so answers are remembered: a mapped agent or number for a
 * minute, an unmapped one for five seconds only (it may be mapped any moment). Workers also drop the
 * whole cache when Postgres NOTIFYs a mapping change (listenForTenantChanges), so changes apply within
 * a second or two.
 */

export const MAPPED_TTL_MS = 60_000;
export const UNMAPPED_TTL_MS = 5_000;

// One process talks to one database, so agent ids and numbers are sufficient keys.
const agents = new Map<string, { companyId: string | null; until: number }>();
const numbers = new Map<string, { companyId: string | null; until: number }>();

/** Forget every cached answer (a mapping changed). */
export function invalidateTenantCache(): void {
  agents.clear();
  numbers.clear();
}

async function cached(
  cache: typeof agents,
  key: string,
  load: () => Promise<string | null>,
  now: number,
): Promise<string | null> {
  const hit = cache.get(key);
  if (hit && hit.until > now) return hit.companyId;
  const companyId = await load();
  if (cache.size > 10_000) cache.clear();
  cache.set(key, { companyId, until: now + (companyId === null ? UNMAPPED_TTL_MS : MAPPED_TTL_MS) });
  return companyId;
}

export interface CallParties {
  agent_id?: string | null;
  direction?: string | null;
  from_number?: string | null;
  to_number?: string | null;
}

/** The company of a call (or, with only agent_id, of a chat); null when nothing maps it. */
export async function resolveCompany(db: Db, call: CallParties, now = Date.now()): Promise<string | null> {
  if (call.agent_id) {
    const agentId = call.agent_id;
    const byAgent = await cached(agents, agentId, () => findCompanyIdForAgent(db, agentId), now);
    if (byAgent !== null) return byAgent;
  }
  const number =
    call.direction === 'inbound' ? call.to_number : call.direction === 'outbound' ? call.from_number : null;
  if (!number) return null;
  return cached(numbers, number, () => findCompanyIdForNumber(db, number), now);
}
