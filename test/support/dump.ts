import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { promisify } from 'node:util';

/** The pg_dump of the local PostgreSQL installation (the one scripts/services.sh runs). */
function pgDump(): string {
  const dirs = ['/usr/lib/postgresql/15/bin'];
  if (existsSync('/usr/lib/postgresql'))
    for (const v of readdirSync('/usr/lib/postgresql')) dirs.push(`/usr/lib/postgresql/${v}/bin`);
  const found = dirs.map((d) => `${d}/pg_dump`).find((p) => existsSync(p));
  if (!found) throw new Error('pg_dump not found under /usr/lib/postgresql/*/bin (scripts/services.sh installs it)');
  return found;
}

/** Every row of the database as `pg_dump --data-only` writes it: what a stolen dump would hold. */
export async function dumpData(databaseUrl: string): Promise<string> {
  const { stdout } = await promisify(execFile)(pgDump(), ['--data-only', '--no-owner', databaseUrl], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

/** The ways a phone number can appear in a dump: as text, as bare digits, and hex-encoded inside a bytea. */
export function numberForms(e164: string): string[] {
  const digits = e164.replace(/^\+/, '');
  return [e164, digits, Buffer.from(e164).toString('hex'), Buffer.from(digits).toString('hex')];
}
