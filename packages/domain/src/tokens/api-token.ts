import { createHash, randomBytes } from 'node:crypto';
import { type Db } from '@callsync/db';
import { addApiToken, type ApiToken } from '@callsync/db/tenants';

/*
 * Context API tokens (make tokens): 32 random bytes, shown once; only their SHA-256 is stored, so a
 * database dump holds no usable token. A token belongs to one company, or (operator) to all.
 */

const PREFIX = 'cs_';

/** What is stored for a token. */
export const tokenSha256 = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new token for a company (null: an operator token for every company). The token is returned once. */
export async function createApiToken(
  db: Db,
  o: { companyId: string | null; description?: string | null },
): Promise<{ token: string; stored: ApiToken }> {
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const stored = await addApiToken(db, {
    tokenSha256: tokenSha256(token),
    companyId: o.companyId,
    description: o.description ?? null,
  });
  return { token, stored };
}
