import { readFileSync } from 'node:fs';
import type { Config } from '@callsync/config';
import { type Db } from '@callsync/db';
import { addCompany, E164, findCompany, listTenants, mapAgent, mapNumber, type Company } from '@callsync/db/tenants';
import { afterMappingChange, applyTenantPlan, syncTenantsFromRetell } from '@callsync/domain';
import { RetellApiError } from '@callsync/retell';
import { retellClient } from '../retell-client';
import { runSubcommands, UsageError, type SubcommandValues } from '../subcommands';
import { table } from '../table';
import { parseTenantFile, TenantFileError } from '../tenants/tenant-file';

export const TENANTS_USAGE = `usage: make tenants ARGS="<subcommand> ..."

Companies (tenants) and the Retell agents and phone numbers they own. A call's company is its agent's,
else its number's (to_number for inbound calls, from_number for outbound ones).

  list                                   companies, agents and numbers, with their mappings
  company add NAME [--tz Europe/Berlin]  add a company (time zone default UTC)
  agent map AGENT_ID COMPANY             map an agent to a company (its id or exact name)
  number map +49... COMPANY [--nickname N]
                                         map an E.164 number; agents bound to it follow unless mapped
                                         for themselves
  sync                                   pull agents and phone numbers from Retell's API (names, versions,
                                         bound agents); it also runs daily and when a worker starts
  apply FILE [--dry-run]                 bring the database to a YAML or JSON file (examples/tenants.yaml);
                                         prints each change; --dry-run changes nothing

Every mapping change tells the workers at once and gives sessions without a company the one it resolves.`;

async function companyOrFail(db: Db, ref: string | undefined): Promise<Company> {
  if (!ref) throw new UsageError('missing COMPANY (its id or exact name)');
  const company = await findCompany(db, ref);
  if (!company)
    throw new UsageError(`unknown company "${ref}": add it first with make tenants ARGS='company add "${ref}"'`);
  return company;
}

function backfillLine(n: { calls: number; chats: number }): string {
  return `sessions given their company: ${n.calls} call(s), ${n.chats} chat(s)`;
}

/** A titled table; its columns are the rows' fields, in the order the rows name them. */
function printTable(title: string, rows: Record<string, unknown>[]): void {
  console.log(title);
  console.log(table(rows, Object.keys(rows[0] ?? {})));
}

async function list(db: Db): Promise<void> {
  const t = await listTenants(db);
  const names = new Map(t.companies.map((c) => [c.id, `${c.name} (${c.id})`]));
  const company = (id: string | null) => (id === null ? '(unmapped)' : names.get(id));
  printTable(
    'Companies',
    t.companies.map((c) => ({
      id: c.id,
      name: c.name,
      time_zone: c.time_zone,
      caller_memory: c.caller_memory,
      agents: t.agents.filter((a) => a.company_id === c.id).length,
      numbers: t.numbers.filter((n) => n.company_id === c.id).length,
    })),
  );
  printTable(
    '\nAgents',
    t.agents.map((a) => ({
      agent_id: a.agent_id,
      name: a.name,
      type: a.agent_type,
      version: a.agent_version,
      company: company(a.company_id),
      via: a.company_source === 'number' ? 'its number' : a.company_source === 'agent' ? 'itself' : '',
    })),
  );
  printTable(
    '\nPhone numbers',
    t.numbers.map((n) => ({
      number: n.phone_number,
      nickname: n.nickname,
      inbound_agent: n.inbound_agent_id,
      outbound_agent: n.outbound_agent_id,
      company: company(n.company_id),
    })),
  );
}

async function run(db: Db, config: Config, positionals: string[], values: SubcommandValues): Promise<number> {
  const [command, sub, ...rest] = positionals;
  if (command === 'sync') {
    const retell = retellClient(config);
    console.log(`pulling agents and phone numbers from ${config.retell.apiBaseUrl} ...`);
    const s = await syncTenantsFromRetell(db, retell);
    console.log(`agents: ${s.agents} listed, ${s.newAgents} new`);
    console.log(`phone numbers: ${s.numbers} listed, ${s.newNumbers} new`);
    if (s.skippedNumbers.length)
      console.log(
        `left out, not E.164: ${s.skippedNumbers.slice(0, 10).join(', ')}${s.skippedNumbers.length > 10 ? ', ...' : ''}`,
      );
    console.log(`agents that took the company of their number: ${s.inherited}`);
    console.log(backfillLine(s.backfilled));
    return 0;
  }
  if (command === 'list') {
    await list(db);
    return 0;
  }
  if (command === 'company' && sub === 'add') {
    const name = rest.join(' ').trim();
    if (!name)
      throw new UsageError('missing NAME: make tenants ARGS=\'company add "Praxis Dr. Weber" --tz Europe/Berlin\'');
    const tz = (values.tz as string | undefined) ?? 'UTC';
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
    } catch {
      throw new UsageError(`--tz: "${tz}" is not an IANA time zone (e.g. Europe/Berlin)`);
    }
    if (await findCompany(db, name)) throw new UsageError(`company "${name}" exists already`);
    const c = await addCompany(db, name, tz);
    console.log(`company added: "${c.name}" (id ${c.id}, ${c.time_zone})`);
    return 0;
  }
  if (command === 'agent' && sub === 'map') {
    const [agentId, ref] = rest;
    if (!agentId) throw new UsageError('missing AGENT_ID: make tenants ARGS="agent map agent_abc COMPANY"');
    const company = await companyOrFail(db, ref);
    await mapAgent(db, agentId, company.id);
    console.log(`agent ${agentId} -> "${company.name}" (id ${company.id})`);
    console.log(backfillLine(await afterMappingChange(db)));
    return 0;
  }
  if (command === 'number' && sub === 'map') {
    const [number, ref] = rest;
    if (!number || !E164.test(number))
      throw new UsageError(`"${number ?? ''}" is not an E.164 number (a + and up to 15 digits, e.g. +493033081738)`);
    const company = await companyOrFail(db, ref);
    await mapNumber(db, number, company.id, (values.nickname as string | undefined) ?? undefined);
    console.log(`number ${number} -> "${company.name}" (id ${company.id})`);
    console.log(backfillLine(await afterMappingChange(db)));
    return 0;
  }
  if (command === 'apply') {
    if (!sub) throw new UsageError('missing FILE: make tenants ARGS="apply examples/tenants.yaml"');
    let text: string;
    try {
      text = readFileSync(sub, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${sub}: ${(err as Error).message}`);
    }
    const plan = parseTenantFile(text, sub);
    const dryRun = Boolean(values['dry-run']);
    const result = await applyTenantPlan(db, plan, { dryRun });
    for (const c of result.changes) console.log(`${dryRun ? 'would change' : 'changed'}: ${c}`);
    if (result.changes.length === 0) console.log(`nothing to change: the database matches ${sub}`);
    else if (dryRun) console.log(`${result.changes.length} change(s) shown; nothing written (--dry-run)`);
    else console.log(`${result.changes.length} change(s) applied; ${backfillLine(result.backfilled)}`);
    return 0;
  }
  throw new UsageError(
    command ? `unknown subcommand: ${[command, sub].filter(Boolean).join(' ')}` : 'missing subcommand',
  );
}

/** `make tenants`: companies, agents and numbers, by hand or from a file. */
export async function tenantsCommand(config: Config, argv: string[]): Promise<number> {
  return runSubcommands(config, argv, {
    usage: TENANTS_USAGE,
    applicationName: 'callsync-tenants',
    options: {
      tz: { type: 'string' },
      nickname: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
    run: (db, cfg, positionals, values) => run(db, cfg, positionals, values),
    explain: (err) => {
      if (err instanceof TenantFileError)
        return { code: 1, message: `${err.problems.join('\n')}\nnothing was changed` };
      if (err instanceof RetellApiError) return { code: 1, message: `sync failed: ${err.message}` };
      return undefined;
    },
  });
}
