import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { E164 } from '@callsync/db';
import type { PlannedCompany, TenantPlan } from '@callsync/domain';

/*
 * The declarative tenant file of `make tenants ARGS="apply FILE"`, YAML or JSON (JSON is YAML):
 *
 *   companies:
 *     - name: Praxis Dr. Weber
 *       time_zone: Europe/Berlin
 *       agents: [agent_f1ce85d06a84afb989dfbb16a9]
 *       numbers:
 *         - "+493033081738"
 *         - { number: "+493012345678", nickname: Empfang }
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

const numberEntry = z.union([
  z.string(),
  z.strictObject({ number: z.string(), nickname: z.string().min(1).optional() }),
]);

const fileSchema = z.strictObject({
  companies: z.array(
    z.strictObject({
      name: z.string().trim().min(1, 'must not be empty'),
      time_zone: z.string().refine(validTimeZone, 'is not an IANA time zone (e.g. Europe/Berlin)').default('UTC'),
      agents: z.array(z.string().trim().min(1, 'must not be empty')).default([]),
      numbers: z.array(numberEntry).default([]),
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
    const numbers = c.numbers.map((n, ni) => {
      const entry =
        typeof n === 'string' ? { number: n, nickname: null } : { number: n.number, nickname: n.nickname ?? null };
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
