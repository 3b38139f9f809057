import { type Db } from '@callsync/db';
import { findAgentCompany, findCompanyIdForNumber } from '@callsync/db/tenants';

/*
 * Which company a call or chat belongs to: its agent's when the agent is mapped for itself, else its
 * number's (to_number inbound, from_number outbound), else the company the agent inherited from a
 * number it is bound to. So an agent bound to numbers of two companies takes the company of the
 * number the call is on, not whichever number came first. Every event asks, so answers are remembered: a mapped agent or number for a
 * minute, an unmapped one for five seconds only (it may be mapped any moment). Workers also drop the
 * whole cache when Postgres NOTIFYs a mapping change (listenForTenantChanges), so changes apply within
 * a second or two.
 */

export const MAPPED_TTL_MS = 60_000;
export const UNMAPPED_TTL_MS = 5_000;

// One process talks to one database, so agent ids and numbers are sufficient keys.
type AgentCompany = { companyId: string | null; source: 'agent' | 'number' | null };
const agents = new Map<string, { value: AgentCompany; until: number }>();
const numbers = new Map<string, { value: string | null; until: number }>();

/** Forget every cached answer (a mapping changed). */
export function invalidateTenantCache(): void {
  agents.clear();
  numbers.clear();
}

async function cached<T>(
  cache: Map<string, { value: T; until: number }>,
  key: string,
  load: () => Promise<T>,
  mapped: (value: T) => boolean,
  now: number,
): Promise<T> {
  const hit = cache.get(key);
  if (hit && hit.until > now) return hit.value;
  const value = await load();
  if (cache.size > 10_000) cache.clear();
  cache.set(key, { value, until: now + (mapped(value) ? MAPPED_TTL_MS : UNMAPPED_TTL_MS) });
  return value;
}

export interface CallParties {
  agent_id?: string | null;
  direction?: string | null;
  from_number?: string | null;
  to_number?: string | null;
}

const NO_AGENT: AgentCompany = { companyId: null, source: null };

/** The company of a call (or, with only agent_id, of a chat); null when nothing maps it. */
export async function resolveCompany(db: Db, call: CallParties, now = Date.now()): Promise<string | null> {
  const agentId = call.agent_id;
  const agent = agentId
    ? await cached(
        agents,
        agentId,
        async () => (await findAgentCompany(db, agentId)) ?? NO_AGENT,
        (a) => a.companyId !== null,
        now,
      )
    : NO_AGENT;
  if (agent.companyId !== null && agent.source === 'agent') return agent.companyId;
  const number =
    call.direction === 'inbound' ? call.to_number : call.direction === 'outbound' ? call.from_number : null;
  const byNumber = number
    ? await cached(
        numbers,
        number,
        () => findCompanyIdForNumber(db, number),
        (c) => c !== null,
        now,
      )
    : null;
  return byNumber ?? agent.companyId;
}
