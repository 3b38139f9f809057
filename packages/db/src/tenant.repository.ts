import { sql } from 'kysely';
import type { Db } from './database';
import { recordset } from './session-fields';
import type { Agent } from './agent.table';
import type { CallerMemory, Company, PhoneNumber } from './company.table';

/*
 * Companies, and the agents and phone numbers they own. Every change that can give a session its
 * company ends with notifyTenantsChanged (workers drop their cache) and backfillSessionCompanies
 * (sessions still without a company get the one the mapping resolves).
 */

/** Postgres NOTIFY channel the workers LISTEN on to drop their tenant cache. */
export const TENANTS_CHANNEL = 'callsync_tenants';

export const E164 = /^\+[1-9][0-9]{1,14}$/;

export interface Tenants {
  companies: Company[];
  agents: Agent[];
  numbers: PhoneNumber[];
}

export async function listTenants(db: Db): Promise<Tenants> {
  const [companies, agents, numbers] = await Promise.all([
    db.selectFrom('companies').selectAll().orderBy('id').execute(),
    db.selectFrom('retell_agents').selectAll().orderBy('agent_id').execute(),
    db.selectFrom('retell_phone_numbers').selectAll().orderBy('phone_number').execute(),
  ]);
  return { companies, agents, numbers };
}

/** A company by id (digits) or by exact name. */
export async function findCompany(db: Db, ref: string): Promise<Company | undefined> {
  const q = db.selectFrom('companies').selectAll();
  return /^\d+$/.test(ref) ? q.where('id', '=', ref).executeTakeFirst() : q.where('name', '=', ref).executeTakeFirst();
}

export async function addCompany(
  db: Db,
  name: string,
  timeZone: string,
  callerMemory?: CallerMemory,
): Promise<Company> {
  return db
    .insertInto('companies')
    .values({ name, time_zone: timeZone, ...(callerMemory ? { caller_memory: callerMemory } : {}) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateCompanyCallerMemory(db: Db, id: string, callerMemory: CallerMemory): Promise<void> {
  await db
    .updateTable('companies')
    .set({ caller_memory: callerMemory, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

export async function updateCompanyTimeZone(db: Db, id: string, timeZone: string): Promise<void> {
  await db
    .updateTable('companies')
    .set({ time_zone: timeZone, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .execute();
}

/** Map an agent to a company for itself (null: unmap); a number's mapping never overrides it. */
export async function mapAgent(db: Db, agentId: string, companyId: string | null): Promise<void> {
  await db
    .insertInto('retell_agents')
    .values({ agent_id: agentId, company_id: companyId, company_source: companyId === null ? null : 'agent' })
    .onConflict((oc) =>
      oc.column('agent_id').doUpdateSet({
        company_id: companyId,
        company_source: companyId === null ? null : 'agent',
        updated_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

/**
 * Map a number to a company (null: unmap), and with it the agents bound to the number that are not
 * mapped for themselves.
 */
export async function mapNumber(
  db: Db,
  phoneNumber: string,
  companyId: string | null,
  nickname?: string | null,
): Promise<void> {
  await db
    .insertInto('retell_phone_numbers')
    .values({ phone_number: phoneNumber, company_id: companyId, nickname: nickname ?? null })
    .onConflict((oc) =>
      oc.column('phone_number').doUpdateSet((eb) => ({
        company_id: companyId,
        nickname: nickname === undefined ? eb.ref('retell_phone_numbers.nickname') : nickname,
        updated_at: sql<Date>`now()`,
      })),
    )
    .execute();
  await inheritNumberCompanies(db);
}

/** Each agent bound to a mapped number, with that number's company (the first number, if several). */
const BOUND_AGENTS = sql`
  select distinct on (agent_id) agent_id, company_id from (
    select unnest(agent_ids || array_remove(array[inbound_agent_id, outbound_agent_id], null)) as agent_id, company_id, phone_number
    from retell_phone_numbers where company_id is not null
  ) b order by agent_id, phone_number`;

/**
 * Agents bound to a mapped number (inbound, outbound or SMS) and not mapped for themselves take its
 * company; ones that inherited from a number no longer mapped lose it. One agent bound to numbers of
 * two companies keeps the first by number order here, but a call's own number decides its company
 * (resolveCompany); map the agent for itself to override both.
 */
export async function inheritNumberCompanies(db: Db): Promise<void> {
  await sql`
    with bound as (${BOUND_AGENTS})
    update retell_agents a set
      company_id = bound.company_id,
      company_source = case when bound.company_id is null then null else 'number' end,
      updated_at = now()
    from retell_agents a2 left join bound on bound.agent_id = a2.agent_id
    where a.agent_id = a2.agent_id and a.company_source is distinct from 'agent'
      and a.company_id is distinct from bound.company_id`.execute(db);
  // Agents bound to a mapped number that callsync has not seen yet (no sync run) are created.
  await sql`
    insert into retell_agents (agent_id, company_id, company_source)
    select agent_id, company_id, 'number' from (${BOUND_AGENTS}) bound
    on conflict (agent_id) do nothing`.execute(db);
}

/** Tell every worker (LISTEN callsync_tenants) to drop its tenant cache; delivered at commit. */
export async function notifyTenantsChanged(db: Db): Promise<void> {
  await sql`select pg_notify(${TENANTS_CHANNEL}, '')`.execute(db);
}

/**
 * Give sessions and chats without a company the one their agent, else their number (to_number
 * inbound, from_number outbound), resolves to, in batches of `batch` rows along the primary key.
 * Returns how many it updated.
 */
export async function backfillSessionCompanies(db: Db, batch = 5000): Promise<{ calls: number; chats: number }> {
  const range = async (table: 'retell_call_sessions' | 'retell_chat_sessions') => {
    const { rows } = await sql<{ min: string | null; max: string | null }>`
      select min(id) as min, max(id) as max from ${sql.table(table)} where company_id is null`.execute(db);
    return rows[0]!.min === null ? null : [BigInt(rows[0]!.min), BigInt(rows[0]!.max!)];
  };
  let calls = 0;
  const callRange = await range('retell_call_sessions');
  if (callRange) {
    for (let from = callRange[0]!; from <= callRange[1]!; from += BigInt(batch)) {
      const r = await sql`
        update retell_call_sessions s set company_id = r.company_id, updated_at = now()
        from (
          -- As resolveCompany: the agent's own mapping, else the number's, else what the agent inherited.
          select s2.id, coalesce(case when a.company_source = 'agent' then a.company_id end, n.company_id, a.company_id) as company_id
          from retell_call_sessions s2
          left join retell_agents a on a.agent_id = s2.agent_id
          left join retell_phone_numbers n on n.phone_number =
            case s2.direction when 'inbound' then s2.to_number when 'outbound' then s2.from_number end
          where s2.company_id is null and s2.id >= ${from.toString()}::bigint and s2.id < ${(from + BigInt(batch)).toString()}::bigint
        ) r
        where s.id = r.id and r.company_id is not null`.execute(db);
      calls += Number(r.numAffectedRows ?? 0);
    }
  }
  let chats = 0;
  const chatRange = await range('retell_chat_sessions');
  if (chatRange) {
    for (let from = chatRange[0]!; from <= chatRange[1]!; from += BigInt(batch)) {
      const r = await sql`
        update retell_chat_sessions s set company_id = a.company_id, updated_at = now()
        from retell_agents a
        where a.agent_id = s.agent_id and a.company_id is not null and s.company_id is null
          and s.id >= ${from.toString()}::bigint and s.id < ${(from + BigInt(batch)).toString()}::bigint`.execute(db);
      chats += Number(r.numAffectedRows ?? 0);
    }
  }
  return { calls, chats };
}

export interface SyncedAgent {
  agent_id: string;
  name: string | null;
  agent_version: number | null;
  agent_type: 'voice' | 'chat' | null;
}

export interface SyncedNumber {
  phone_number: string;
  nickname: string | null;
  inbound_agent_id: string | null;
  outbound_agent_id: string | null;
  agent_ids: string[];
}

/**
 * Record agents as Retell lists them (name, version, voice or chat), never touching their company.
 * Returns how many were new.
 */
export async function upsertSyncedAgents(db: Db, agents: readonly SyncedAgent[]): Promise<number> {
  if (agents.length === 0) return 0;
  const { rows } = await sql<{ inserted: boolean }>`
    insert into retell_agents (agent_id, name, agent_version, agent_type, synced_at)
    select agent_id, name, agent_version, agent_type, now()
    from ${recordset(agents, 'agent_id', { name: 'text', agent_version: 'int', agent_type: 'text' })}
    order by agent_id
    on conflict (agent_id) do update set
      name = excluded.name, agent_version = excluded.agent_version, agent_type = excluded.agent_type,
      synced_at = now(), updated_at = now()
    returning (xmax = 0) as inserted`.execute(db);
  return rows.filter((r) => r.inserted).length;
}

/**
 * Record numbers as Retell lists them (nickname, bound agents), never touching their company; a
 * nickname set by hand stays when Retell has none. Returns how many were new.
 */
export async function upsertSyncedNumbers(db: Db, numbers: readonly SyncedNumber[]): Promise<number> {
  if (numbers.length === 0) return 0;
  const { rows } = await sql<{ inserted: boolean }>`
    insert into retell_phone_numbers (phone_number, nickname, inbound_agent_id, outbound_agent_id, agent_ids, synced_at)
    select phone_number, nickname, inbound_agent_id, outbound_agent_id,
      coalesce(array(select jsonb_array_elements_text(agent_ids)), '{}'), now()
    from ${recordset(numbers, 'phone_number', {
      nickname: 'text',
      inbound_agent_id: 'text',
      outbound_agent_id: 'text',
      agent_ids: 'jsonb',
    })}
    order by phone_number
    on conflict (phone_number) do update set
      nickname = coalesce(excluded.nickname, retell_phone_numbers.nickname),
      inbound_agent_id = excluded.inbound_agent_id, outbound_agent_id = excluded.outbound_agent_id,
      agent_ids = excluded.agent_ids, synced_at = now(), updated_at = now()
    returning (xmax = 0) as inserted`.execute(db);
  return rows.filter((r) => r.inserted).length;
}

export interface ScheduleWindow {
  weekdays: number[];
  /** 'HH:MM:SS' */
  starts_at: string;
  ends_at: string;
  agent_id: string;
  agent_version: number | null;
}

export interface NumberRouting {
  variables: Record<string, string>;
  schedules: ScheduleWindow[];
}

/** A number's inbound routing as stored: static variables and time windows in id order. */
export async function findNumberRouting(db: Db, phoneNumber: string): Promise<NumberRouting> {
  const [n, schedules] = await Promise.all([
    db
      .selectFrom('retell_phone_numbers')
      .select('dynamic_variables')
      .where('phone_number', '=', phoneNumber)
      .executeTakeFirst(),
    db
      .selectFrom('inbound_schedules')
      .select(['weekdays', 'starts_at', 'ends_at', 'agent_id', 'agent_version'])
      .where('phone_number', '=', phoneNumber)
      .orderBy('id')
      .execute(),
  ]);
  return { variables: n?.dynamic_variables ?? {}, schedules };
}

/** Replace a number's static variables and time windows (the number must exist). */
export async function setNumberRouting(db: Db, phoneNumber: string, routing: NumberRouting): Promise<void> {
  await db
    .updateTable('retell_phone_numbers')
    .set({ dynamic_variables: JSON.stringify(routing.variables), updated_at: sql<Date>`now()` })
    .where('phone_number', '=', phoneNumber)
    .execute();
  await db.deleteFrom('inbound_schedules').where('phone_number', '=', phoneNumber).execute();
  if (routing.schedules.length)
    await db
      .insertInto('inbound_schedules')
      .values(routing.schedules.map((s) => ({ ...s, phone_number: phoneNumber })))
      .execute();
}

export async function findBlockedNumbers(db: Db, companyId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('company_blocked_numbers')
    .select('phone_number')
    .where('company_id', '=', companyId)
    .orderBy('phone_number')
    .execute();
  return rows.map((r) => r.phone_number);
}

/** Replace a company's blocked callers. */
export async function setBlockedNumbers(db: Db, companyId: string, numbers: readonly string[]): Promise<void> {
  await db.deleteFrom('company_blocked_numbers').where('company_id', '=', companyId).execute();
  if (numbers.length)
    await db
      .insertInto('company_blocked_numbers')
      .values(numbers.map((n) => ({ company_id: companyId, phone_number: n })))
      .execute();
}
