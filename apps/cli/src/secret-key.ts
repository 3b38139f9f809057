import { requireSecretKey, type Config } from '@callsync/config';
import { createDb } from '@callsync/db';
import { applySecretKey, callerHasher, SecretKeyring } from '@callsync/domain';

/** The keyring of CALLSYNC_SECRET_KEY; a ConfigError naming the variable when it is not set. */
export function keyringOf(config: Pick<Config, 'secretKey'>): SecretKeyring {
  return new SecretKeyring(requireSecretKey(config));
}

/**
 * `make migrate`'s last step, after the schema and data migrations: what needs the secret key (SQL
 * migrations never see it). Legacy caller hashes are rewrapped into the keyed form, and destination
 * secrets not encrypted with the current key are (again, after a rotation). Idempotent.
 */
export async function migrateKeyedData(config: Pick<Config, 'database'>, keys: SecretKeyring): Promise<number> {
  const db = createDb({ url: config.database.url, poolSize: 1, applicationName: 'callsync-migrate' });
  try {
    const done = await applySecretKey(db, keys);
    const say = (line: string) => console.log(`[migrate] ${line}`);
    if (done.callerHashesRewrapped)
      say(`rewrapped ${done.callerHashesRewrapped} caller hashes from before the secret key (key ${keys.keyId})`);
    if (done.secretsEncrypted) say(`encrypted ${done.secretsEncrypted} destination secrets with key ${keys.keyId}`);
    if (done.expiredSecretsRemoved)
      say(`removed ${done.expiredSecretsRemoved} previous destination secrets whose overlap was over`);
    if (!done.callerHashesRewrapped && !done.secretsEncrypted)
      say(`caller hashes and destination secrets are under the secret key (key ${keys.keyId})`);
    return 0;
  } finally {
    await db.destroy();
  }
}

/** A number's caller hashes under every key (for `make forget --caller`): reads the database's salt once. */
export async function callerHashesFor(config: Config, keys: SecretKeyring): Promise<(number: string) => string[]> {
  const db = createDb({ url: config.database.url, poolSize: 1, applicationName: 'callsync-forget' });
  try {
    return (await callerHasher(db, keys)).hashes;
  } finally {
    await db.destroy();
  }
}
