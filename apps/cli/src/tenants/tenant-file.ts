import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { CALLER_MEMORY, E164 } from '@callsync/db/tenants';
import type { PlannedCompany, PlannedNumber, TenantPlan } from '@callsync/domain';

/*
 * The declarative tenant file of `make tenants ARGS="apply FILE"`, YAML or JSON (JSON is YAML):
 *
 *   companies:
 *     - name: Praxis Dr. Weber
 *       time_zone: Europe/Berlin
 *       agents: [agent_f1ce85d06a84afb989dfbb16a9]
 *       blocked: ["+4915112345678"]          # callers rejected on inbound calls and SMS
 *       caller_memory: summary               # summary (default) | count | off: what agents hear of a caller's earlier calls
 *       numbers:
 *         - "+493033081738"
 *         - number: "+493012345678"
 *           nickname: Empfang
 *           variables: { practice_phone: "030 1234 5678" }   # static inbound dynamic variables
 *           schedule:                                        # agent by time (company time zone)
 *             - { days: mon-fri, from: "08:00", to: "18:00", agent: agent_day }
 *             - { days: [sat, sun], from: "00:00", to: "24:00", agent: agent_weekend, version: 2 }
 *
 * Every error names the line (and the key) it is about.
 */

export class TenantFileError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'TenantFileError';
  }
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

/** 'mon-fri', 'sat', 'mon,wed' or a list of those, as ISO weekdays (1 = Monday). */
function weekdays(spec: string | string[]): number[] | null {
  const out = new Set<number>();
  for (const part of (Array.isArray(spec) ? spec : [spec]).flatMap((s) => s.split(','))) {
    const [a, b] = part.trim().toLowerCase().split('-');
    const from = DAYS.indexOf(a ?? '');
    const to = b === undefined ? from : DAYS.indexOf(b);
    if (from < 0 || to < 0 || to < from) return null;
    for (let d = from; d <= to; d++) out.add(d + 1);
  }
  return out.size ? [...out].sort() : null;
}

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'must be a time like 08:00 (24:00 ends the day)');

const timeWindow = z
  .strictObject({
    days: z.union([z.string(), z.array(z.string())]),
    from: clock,
    to: clock,
    agent: z.string().min(1),
    version: z.number().int().nonnegative().optional(),
  })
  .refine((w) => weekdays(w.days) !== null, { message: 'days must be like mon-fri, sat or [mon, wed]', path: ['days'] })
  .refine((w) => w.from < w.to, { message: 'from must be before to', path: ['to'] });

const numberEntry = z.union([
  z.string(),
  z.strictObject({
    number: z.string(),
    nickname: z.string().min(1).optional(),
    variables: z.record(z.string(), z.string()).optional(),
    schedule: z.array(timeWindow).optional(),
  }),
]);

const fileSchema = z.strictObject({
  companies: z.array(
    z.strictObject({
      name: z.string().trim().min(1, 'must not be empty'),
      time_zone: z.string().refine(validTimeZone, 'is not an IANA time zone (e.g. Europe/Berlin)').default('UTC'),
      agents: z.array(z.string().trim().min(1, 'must not be empty')).default([]),
      numbers: z.array(numberEntry).default([]),
      blocked: z.array(z.string()).optional(),
      caller_memory: z.enum(CALLER_MEMORY).optional(),
    }),
  ),
});

/** Parse and check a tenant file; throws TenantFileError listing every problem with its line. */
export function parseTenantFile(text: string, fileName: string): TenantPlan {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const lineOf = (offset: number) => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    throw new TenantFileError(
      doc.errors.map((e) => `${fileName}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`),
    );
  }
  const at = (path: (string | number)[]) => `${fileName}:${lineOf(nodeAt(doc, path)?.range?.[0] ?? 0)}`;
  const parsed = fileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new TenantFileError(
      parsed.error.issues.map((i) => {
        const path = i.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
        const keys =
          i.code === 'unrecognized_keys' ? ` unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}` : '';
        const name = path.join('.') || 'file';
        return `${at(path)}: ${name}:${keys || ` ${i.message}`}`;
      }),
    );
  }
  const problems: string[] = [];
  const seenCompanies = new Map<string, number>();
  const seenAgents = new Map<string, string>();
  const seenNumbers = new Map<string, string>();
  const companies = parsed.data.companies.map((c, ci): PlannedCompany => {
    const where = (path: (string | number)[]) => at(['companies', ci, ...path]);
    if (seenCompanies.has(c.name)) problems.push(`${where(['name'])}: company "${c.name}" is declared twice`);
    seenCompanies.set(c.name, ci);
    c.agents.forEach((a, ai) => {
      const other = seenAgents.get(a);
      if (other !== undefined) problems.push(`${where(['agents', ai])}: agent ${a} is listed under "${other}" already`);
      seenAgents.set(a, c.name);
    });
    (c.blocked ?? []).forEach((b, bi) => {
      if (!E164.test(b))
        problems.push(`${where(['blocked', bi])}: "${b}" is not an E.164 number (e.g. +4915112345678)`);
    });
    const numbers = c.numbers.map((n, ni): PlannedNumber => {
      const entry: PlannedNumber =
        typeof n === 'string'
          ? { number: n, nickname: null, routing: null }
          : {
              number: n.number,
              nickname: n.nickname ?? null,
              routing:
                n.variables || n.schedule
                  ? {
                      variables: n.variables ?? {},
                      schedules: (n.schedule ?? []).map((w) => ({
                        weekdays: weekdays(w.days)!,
                        starts_at: `${w.from}:00`,
                        ends_at: `${w.to}:00`,
                        agent_id: w.agent,
                        agent_version: w.version ?? null,
                      })),
                    }
                  : null,
            };
      if (!E164.test(entry.number))
        problems.push(`${where(['numbers', ni])}: "${entry.number}" is not an E.164 number (e.g. +493033081738)`);
      const other = seenNumbers.get(entry.number);
      if (other !== undefined)
        problems.push(`${where(['numbers', ni])}: number ${entry.number} is listed under "${other}" already`);
      seenNumbers.set(entry.number, c.name);
      return entry;
    });
    return {
      name: c.name,
      timeZone: c.time_zone,
      agents: c.agents,
      numbers,
      blocked: c.blocked ?? null,
      callerMemory: c.caller_memory ?? null,
      line: lineOf(nodeAt(doc, ['companies', ci])?.range?.[0] ?? 0),
    };
  });
  if (problems.length) throw new TenantFileError(problems);
  return { companies };
}

/** The node at `path`, or the nearest one above it that exists (a missing key is reported at its map). */
function nodeAt(doc: Document, path: (string | number)[]): Node | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (node && (isMap(node) || isSeq(node) || typeof node === 'object')) return node as Node;
  }
  return undefined;
}
