import { type Db } from '@callsync/db';
import {
  backfillSessionCompanies,
  E164,
  inheritNumberCompanies,
  listTenants,
  notifyTenantsChanged,
  upsertSyncedAgents,
  upsertSyncedNumbers,
} from '@callsync/db/tenants';
import type { TenantSource } from '../events/provider';

export type { TenantSource };

export interface SyncSummary {
  agents: number;
  newAgents: number;
  numbers: number;
  newNumbers: number;
  /** Numbers Retell listed that are not E.164 (left out, named here). */
  skippedNumbers: string[];
  /** Agents whose company changed because of the numbers they are bound to. */
  inherited: number;
  backfilled: { calls: number; chats: number };
}

/**
 * Pull agents (POST /v2/list-agents) and phone numbers (GET /v2/list-phone-numbers) from Retell,
 * every page, and record names, versions and agent bindings. Mappings are the operator's: the sync
 * never sets a company, but an agent bound to a mapped number follows it unless mapped for itself.
 * Everything is written in one transaction; then workers are told and sessions backfilled.
 */
export async function syncTenantsFromRetell(db: Db, retell: TenantSource): Promise<SyncSummary> {
  const [agents, numbers] = await Promise.all([retell.listAgents(), retell.listNumbers()]);
  const skippedNumbers = numbers.filter((n) => !E164.test(n.phone_number)).map((n) => n.phone_number);
  const summary = await db.transaction().execute(async (trx) => {
    const before = new Map((await listTenants(trx)).agents.map((a) => [a.agent_id, a.company_id]));
    const newAgents = await upsertSyncedAgents(
      trx,
      agents.map((a) => ({ agent_id: a.agent_id, name: a.name, agent_version: a.version, agent_type: a.type })),
    );
    const newNumbers = await upsertSyncedNumbers(
      trx,
      numbers.filter((n) => E164.test(n.phone_number)),
    );
    await inheritNumberCompanies(trx);
    const after = (await listTenants(trx)).agents;
    const inherited = after.filter((a) => (before.get(a.agent_id) ?? null) !== a.company_id).length;
    if (inherited) await notifyTenantsChanged(trx);
    return { agents: agents.length, newAgents, numbers: numbers.length, newNumbers, inherited };
  });
  const backfilled = summary.inherited ? await backfillSessionCompanies(db) : { calls: 0, chats: 0 };
  return { ...summary, skippedNumbers, backfilled };
}
