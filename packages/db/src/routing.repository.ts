import { sql } from 'kysely';
import type { Db } from './database';
import type { CallerMemory, InboundSchedule } from './company.table';

/*
 * Everything routing needs, read whole into memory (the live routes' TenantDirectory): companies,
 * agents, numbers with their static variables, time windows and blocklists. Tenants are tens to
 * thousands of rows, so one statement reads them all; changes NOTIFY callsync_tenants and the
 * directory reads it again.
 */

export interface RoutingSnapshot {
  companies: { id: string; name: string; time_zone: string; caller_memory: CallerMemory }[];
  agents: {
    agent_id: string;
    company_id: string | null;
    company_source: 'agent' | 'number' | null;
    name: string | null;
  }[];
  numbers: { phone_number: string; company_id: string | null; dynamic_variables: Record<string, string> }[];
  schedules: Omit<InboundSchedule, 'id'>[];
  blocked: { company_id: string; phone_number: string }[];
}

/** The whole routing state in one statement (one snapshot: no half-applied tenant file). */
export async function loadRoutingSnapshot(db: Db): Promise<RoutingSnapshot> {
  const { rows } = await sql<{ [K in keyof RoutingSnapshot]: RoutingSnapshot[K] | null }>`
    select
      (select json_agg(json_build_object('id', c.id::text, 'name', c.name, 'time_zone', c.time_zone, 'caller_memory', c.caller_memory) order by c.id) from companies c) as companies,
      (select json_agg(json_build_object('agent_id', a.agent_id, 'company_id', a.company_id::text, 'company_source', a.company_source, 'name', a.name)) from retell_agents a) as agents,
      (select json_agg(json_build_object('phone_number', n.phone_number, 'company_id', n.company_id::text, 'dynamic_variables', n.dynamic_variables)) from retell_phone_numbers n) as numbers,
      (select json_agg(json_build_object('phone_number', i.phone_number, 'weekdays', i.weekdays, 'starts_at', i.starts_at, 'ends_at', i.ends_at, 'agent_id', i.agent_id, 'agent_version', i.agent_version) order by i.id) from inbound_schedules i) as schedules,
      (select json_agg(json_build_object('company_id', b.company_id::text, 'phone_number', b.phone_number)) from company_blocked_numbers b) as blocked`.execute(
    db,
  );
  const r = rows[0]!;
  return {
    companies: r.companies ?? [],
    agents: r.agents ?? [],
    numbers: r.numbers ?? [],
    schedules: r.schedules ?? [],
    blocked: r.blocked ?? [],
  };
}
