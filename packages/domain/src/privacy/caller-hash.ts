import { type Db } from '@callsync/db';
import { findCallerHashSalt } from '@callsync/db/privacy';
import type { SecretKeyring } from './secret-key';

/** A caller's number as pruned sessions keep it: keyed by the secret key, salted per database. */
export interface CallerHasher {
  /** The hash retention stores, under the current key; null for no number or 'anonymous'. */
  hash(number: string | null | undefined): string | null;
  /** The hashes under the current and every previous key: what a lookup by caller matches. */
  hashes(number: string | null | undefined): string[];
}

/** The salt never changes once a database has it: read once per pool, not on every live request. */
const salts = new WeakMap<Db, Promise<string>>();

function saltOf(db: Db): Promise<string> {
  let salt = salts.get(db);
  if (!salt) {
    salt = findCallerHashSalt(db);
    // A failed read (Postgres away) is not remembered: the next call asks again.
    salt.catch(() => salts.delete(db));
    salts.set(db, salt);
  }
  return salt;
}

/** The hasher for `db`'s salt and the keyring's keys. */
export async function callerHasher(db: Db, keys: SecretKeyring): Promise<CallerHasher> {
  const salt = await saltOf(db);
  return {
    hash: (number) => keys.callerHash(number, salt),
    hashes: (number) => keys.callerHashes(number, salt),
  };
}

/** The number's hashes under every key; [] (and no database read) when there is no one to hash. */
export async function callerHashesOf(db: Db, keys: SecretKeyring, number: string | null): Promise<string[]> {
  if (!number || number.toLowerCase() === 'anonymous') return [];
  return (await callerHasher(db, keys)).hashes(number);
}
