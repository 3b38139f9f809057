import { type Db } from '@callsync/db';
import {
  addCompany,
  updateCompanyCallerMemory,
  backfillSessionCompanies,
  findBlockedNumbers,
  findNumberRouting,
  setBlockedNumbers,
  setNumberRouting,
  inheritNumberCompanies,
  listTenants,
  mapAgent,
  mapNumber,
  notifyTenantsChanged,
  updateCompanyTimeZone,
  type NumberRouting,
  type CallerMemory,
} from '@callsync/db/tenants';
import { stableJson } from '../events/delivery-identity';

/** What a tenant file declares: companies, each with the agents and numbers it owns. */
export interface PlannedNumber {
  number: string;
  nickname: string | null;
  /** Inbound routing: static dynamic variables and agents by time window (null: leave as is). */
  routing: NumberRouting | null;
}

export interface PlannedCompany {
  name: string;
  timeZone: string;
  agents: string[];
  numbers: PlannedNumber[];
  /** Callers the company rejects on inbound calls and SMS (null: leave as is). */
  blocked: string[] | null;
  /** What agents may hear of a caller's earlier calls (null: leave as is; new companies: summary). */
  callerMemory?: CallerMemory | null;
  /** Where it is declared, for messages. */
  line?: number;
}

export interface TenantPlan {
  companies: PlannedCompany[];
}

export interface ApplyResult {
  /** One line per change, in the order made. Empty: the database already matched the file. */
  changes: string[];
  /** Sessions and chats that got their company from the new mappings (not on a dry run). */
  backfilled: { calls: number; chats: number };
}

class DryRun extends Error {}

/**
 * Bring the database to the plan, in one transaction: companies are added (or their time zone
 * set); each listed agent and number is mapped to its company; an agent or number mapped to one of
 * the file's companies but no longer listed under it is unmapped. Companies the file does not name
 * are left alone. Idempotent: a second run changes nothing. Then workers are told (NOTIFY) and
 * sessions without a company get the one the mappings now resolve, in batches.
 */
export async function applyTenantPlan(
  db: Db,
  plan: TenantPlan,
  options: { dryRun?: boolean } = {},
): Promise<ApplyResult> {
  const changes: string[] = [];
  try {
    await db.transaction().execute(async (trx) => {
      const before = await listTenants(trx);
      const companyName = new Map(before.companies.map((c) => [c.id, c.name]));
      const nameOf = (id: string | null) => (id === null ? 'nobody' : `"${companyName.get(id) ?? id}"`);
      const ids = new Map<string, string>();
      for (const c of plan.companies) {
        const existing = before.companies.find((x) => x.name === c.name);
        if (!existing) {
          const added = await addCompany(trx, c.name, c.timeZone, c.callerMemory ?? undefined);
          companyName.set(added.id, added.name);
          ids.set(c.name, added.id);
          changes.push(
            `company added: "${c.name}" (id ${added.id}, ${c.timeZone}, caller memory ${added.caller_memory})`,
          );
        } else {
          ids.set(c.name, existing.id);
          if (existing.time_zone !== c.timeZone) {
            await updateCompanyTimeZone(trx, existing.id, c.timeZone);
            changes.push(`company "${c.name}": time zone ${existing.time_zone} -> ${c.timeZone}`);
          }
          if (c.callerMemory && existing.caller_memory !== c.callerMemory) {
            await updateCompanyCallerMemory(trx, existing.id, c.callerMemory);
            changes.push(`company "${c.name}": caller memory ${existing.caller_memory} -> ${c.callerMemory}`);
          }
        }
      }
      const managed = new Set(ids.values());
      const wantAgent = new Map(plan.companies.flatMap((c) => c.agents.map((a) => [a, ids.get(c.name)!] as const)));
      const wantNumber = new Map(
        plan.companies.flatMap((c) =>
          c.numbers.map((n) => [n.number, { id: ids.get(c.name)!, nickname: n.nickname }] as const),
        ),
      );
      for (const [agentId, companyId] of wantAgent) {
        const cur = before.agents.find((a) => a.agent_id === agentId);
        if (cur?.company_id === companyId && cur.company_source === 'agent') continue;
        await mapAgent(trx, agentId, companyId);
        changes.push(`agent ${agentId}: ${nameOf(cur?.company_id ?? null)} -> ${nameOf(companyId)}`);
      }
      for (const a of before.agents) {
        if (
          a.company_source === 'agent' &&
          a.company_id !== null &&
          managed.has(a.company_id) &&
          !wantAgent.has(a.agent_id)
        ) {
          await mapAgent(trx, a.agent_id, null);
          changes.push(`agent ${a.agent_id}: ${nameOf(a.company_id)} -> nobody (not in the file any more)`);
        }
      }
      for (const [number, want] of wantNumber) {
        const cur = before.numbers.find((n) => n.phone_number === number);
        const nickname = want.nickname ?? cur?.nickname ?? null;
        if (cur?.company_id === want.id && cur.nickname === nickname) continue;
        await mapNumber(trx, number, want.id, nickname);
        changes.push(
          cur?.company_id === want.id
            ? `number ${number}: nickname ${cur.nickname ?? '(none)'} -> ${nickname ?? '(none)'}`
            : `number ${number}: ${nameOf(cur?.company_id ?? null)} -> ${nameOf(want.id)}`,
        );
      }
      for (const n of before.numbers) {
        if (n.company_id !== null && managed.has(n.company_id) && !wantNumber.has(n.phone_number)) {
          await mapNumber(trx, n.phone_number, null);
          changes.push(`number ${n.phone_number}: ${nameOf(n.company_id)} -> nobody (not in the file any more)`);
        }
      }
      // Inbound routing of the file's numbers, and its companies' blocked callers.
      for (const c of plan.companies) {
        for (const n of c.numbers) {
          if (!n.routing) continue;
          const cur = await findNumberRouting(trx, n.number);
          if (stableJson(cur) === stableJson(n.routing)) continue;
          await setNumberRouting(trx, n.number, n.routing);
          changes.push(
            `number ${n.number}: inbound routing set (${Object.keys(n.routing.variables).length} variable(s), ${n.routing.schedules.length} time window(s))`,
          );
        }
        if (c.blocked) {
          const id = ids.get(c.name)!;
          const cur = await findBlockedNumbers(trx, id);
          const want = [...new Set(c.blocked)].sort();
          if (JSON.stringify(cur) === JSON.stringify(want)) continue;
          await setBlockedNumbers(trx, id, want);
          const added = want.filter((x) => !cur.includes(x));
          const removed = cur.filter((x) => !want.includes(x));
          changes.push(
            `company "${c.name}": blocked callers${added.length ? ` added ${added.join(', ')}` : ''}${removed.length ? ` removed ${removed.join(', ')}` : ''}`,
          );
        }
      }
      await inheritNumberCompanies(trx);
      const after = await listTenants(trx);
      for (const a of after.agents) {
        const was = before.agents.find((x) => x.agent_id === a.agent_id);
        if (a.company_source === 'number' && (was?.company_id ?? null) !== a.company_id)
          changes.push(
            `agent ${a.agent_id}: ${nameOf(was?.company_id ?? null)} -> ${nameOf(a.company_id)} (bound to its number)`,
          );
      }
      if (changes.length) await notifyTenantsChanged(trx);
      if (options.dryRun) throw new DryRun();
    });
  } catch (err) {
    if (!(err instanceof DryRun)) throw err;
    return { changes, backfilled: { calls: 0, chats: 0 } };
  }
  const backfilled = changes.length ? await backfillSessionCompanies(db) : { calls: 0, chats: 0 };
  return { changes, backfilled };
}

/** After a single mapping change (make tenants agent map / number map): tell workers, fill sessions. */
export async function afterMappingChange(db: Db): Promise<{ calls: number; chats: number }> {
  await notifyTenantsChanged(db);
  return backfillSessionCompanies(db);
}
