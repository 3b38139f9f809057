import { sql } from 'kysely';
import type { Db } from './database';
import type { ApiToken } from './api-token.table';

/** A token to store: its hash, never the token. */
export async function addApiToken(
  db: Db,
  t: { tokenSha256: string; companyId: string | null; description: string | null },
): Promise<ApiToken> {
  return db
    .insertInto('api_tokens')
    .values({ token_sha256: t.tokenSha256, company_id: t.companyId, description: t.description })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export interface ApiTokenListing extends Omit<ApiToken, 'token_sha256'> {
  company_name: string | null;
}

/** Every token, without its hash, with its company's name; revoked ones too, with `all`. */
export async function listApiTokens(db: Db, options: { all?: boolean } = {}): Promise<ApiTokenListing[]> {
  let q = db
    .selectFrom('api_tokens as t')
    .leftJoin('companies as c', 'c.id', 't.company_id')
    .select([
      't.id',
      't.company_id',
      'c.name as company_name',
      't.description',
      't.created_at',
      't.last_used_at',
      't.revoked_at',
    ]);
  if (!options.all) q = q.where('t.revoked_at', 'is', null);
  return q.orderBy('t.id').execute();
}

/** Revoke a token by id; false when there is no such token still active. */
export async function revokeApiToken(db: Db, id: string): Promise<boolean> {
  if (!/^\d+$/.test(id)) return false;
  const r = await db
    .updateTable('api_tokens')
    .set({ revoked_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * The active token with this hash, marking its use (at most once a minute, so a busy function does
 * not write on every call). Undefined: unknown or revoked.
 */
export async function useApiToken(
  db: Db,
  tokenSha256: string,
): Promise<Pick<ApiToken, 'id' | 'company_id'> | undefined> {
  const { rows } = await sql<Pick<ApiToken, 'id' | 'company_id'>>`
    with found as (
      select id, company_id, last_used_at from api_tokens where token_sha256 = ${tokenSha256} and revoked_at is null
    ), used as (
      update api_tokens t set last_used_at = now()
      from found where t.id = found.id and (found.last_used_at is null or found.last_used_at < now() - interval '1 minute')
    )
    select id::text, company_id::text from found`.execute(db);
  return rows[0];
}
