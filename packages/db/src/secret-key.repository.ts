import { sql } from 'kysely';
import type { Db } from './database';

/*
 * What the secret key (CALLSYNC_SECRET_KEY) protects, as SQL only: the key and the crypto stay in the
 * app (packages/domain privacy/secret-key.ts), so nothing here sees a key or computes a hash. The
 * rewriting steps are `make migrate`'s: batched, resumable after a crash, idempotent.
 */

/** The per-database salt of caller hashes (callsync_settings); not secret on its own. */
export async function findCallerHashSalt(db: Db): Promise<string> {
  const { rows } = await sql<{ salt: string }>`select caller_hash_salt as salt from callsync_settings`.execute(db);
  if (!rows[0]) throw new Error('callsync_settings has no caller_hash_salt: run make migrate');
  return rows[0].salt;
}

/**
 * Turn every caller_hash stored before the secret key (bare sha256 hex, 64 characters) into the keyed
 * form `rewrap` gives, `batch` rows per transaction in id order. Keyed hashes do not match the
 * pattern, so a second run finds nothing, and a run cut short resumes where it stopped. Returns the
 * rows rewritten.
 */
export async function rewrapLegacyCallerHashes(
  db: Db,
  rewrap: (legacyHex: string) => string,
  batch = 1000,
): Promise<number> {
  let after = '0';
  let total = 0;
  for (;;) {
    const done = await db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ id: string; caller_hash: string }>`
        select id, caller_hash from retell_call_sessions
        where id > ${after}::bigint and caller_hash ~ '^[0-9a-f]{64}$'
        order by id limit ${batch}
        for update`.execute(trx);
      if (rows.length === 0) return 0;
      await sql`
        update retell_call_sessions s set caller_hash = u.hash
        from unnest(${rows.map((r) => r.id)}::bigint[], ${rows.map((r) => rewrap(r.caller_hash))}::text[]) as u(id, hash)
        where s.id = u.id`.execute(trx);
      after = rows[rows.length - 1]!.id;
      return rows.length;
    });
    total += done;
    if (done < batch) return total;
  }
}

/**
 * Rewrite destination signing secrets (secret, previous_secret) that do not start with `keep` (the
 * current key's prefix): plain ones from before the key, and ones encrypted with an older key.
 * `rewrite` gets the stored text (and the destination's id) and returns what to store. A previous
 * secret whose overlap is over signs nothing any more: it is removed instead. One transaction;
 * returns the values rewritten and the expired previous secrets removed.
 */
export async function rewriteDestinationSecrets(
  db: Db,
  keep: string,
  rewrite: (stored: string, destinationId: string) => string,
): Promise<{ rewritten: number; expiredRemoved: number }> {
  return db.transaction().execute(async (trx) => {
    const pattern = `${keep.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const { rows } = await sql<{ id: string; secret: string; previous_secret: string | null; expired: boolean }>`
      select id, secret, previous_secret, coalesce(previous_secret_expires_at <= now(), true) as expired
      from forward_destinations
      where secret not like ${pattern} or previous_secret not like ${pattern}
        or (previous_secret is not null and coalesce(previous_secret_expires_at <= now(), true))
      order by id
      for update`.execute(trx);
    const done = { rewritten: 0, expiredRemoved: 0 };
    const next = (v: string, id: string) => {
      if (v.startsWith(keep)) return v;
      done.rewritten += 1;
      return rewrite(v, id);
    };
    for (const r of rows) {
      let previous = r.previous_secret;
      if (previous !== null && r.expired) {
        previous = null;
        done.expiredRemoved += 1;
      }
      await sql`update forward_destinations set secret = ${next(r.secret, r.id)},
          previous_secret = ${previous === null ? null : next(previous, r.id)},
          previous_secret_expires_at = ${previous === null ? null : sql`previous_secret_expires_at`}
        where id = ${r.id}`.execute(trx);
    }
    return done;
  });
}
