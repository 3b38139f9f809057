import { type Db } from '@callsync/db';
import { rewrapLegacyCallerHashes, rewriteDestinationSecrets } from '@callsync/db/privacy';
import { isEncrypted, SecretKeyError, type SecretKeyring } from './secret-key';

export interface SecretKeyMigration {
  /** Caller hashes from before the key, now keyed. */
  callerHashesRewrapped: number;
  /** Destination secrets (current and previous) encrypted: plain ones, or ones under an older key. */
  secretsEncrypted: number;
  /** Previous secrets whose overlap was over: removed, since they sign nothing any more. */
  expiredSecretsRemoved: number;
}

/**
 * `make migrate`'s step for the secret key (it needs the key, which SQL migrations never see): every
 * caller_hash from before the key is rewrapped into the keyed form, and every destination secret not
 * encrypted with the current key is (plain ones, and ones an older key encrypted, which is how a
 * rotated-out key stops being needed for secrets). Batched and idempotent: a second run changes
 * nothing, and a run cut short resumes. Hashes made under an older key cannot be rewrapped (the
 * number is gone); they keep matching while that key stays in CALLSYNC_SECRET_KEY_PREVIOUS.
 * A secret encrypted with a key the ring does not have stops the run, naming the destination.
 */
export async function applySecretKey(
  db: Db,
  keys: SecretKeyring,
  options: { batch?: number } = {},
): Promise<SecretKeyMigration> {
  const callerHashesRewrapped = await rewrapLegacyCallerHashes(
    db,
    (legacy) => keys.rewrapLegacyCallerHash(legacy),
    options.batch,
  );
  const secrets = await rewriteDestinationSecrets(db, keys.encryptedPrefix, (stored, id) => {
    try {
      return keys.encrypt(isEncrypted(stored) ? keys.decrypt(stored) : stored);
    } catch (err) {
      throw new SecretKeyError(
        `destination ${id}: its signing secret cannot be read: ${(err as Error).message} ` +
          `(or, if that key is lost: make destinations ARGS="rotate-secret ${id}", and give the team the new secret)`,
        { cause: err },
      );
    }
  });
  return {
    callerHashesRewrapped,
    secretsEncrypted: secrets.rewritten,
    expiredSecretsRemoved: secrets.expiredRemoved,
  };
}
