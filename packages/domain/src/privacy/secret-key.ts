import { createCipheriv, createDecipheriv, createHash, createHmac, hkdfSync, randomBytes } from 'node:crypto';

/*
 * CALLSYNC_SECRET_KEY at work (docs/secret-key.md). The key never reaches Postgres; what is stored
 * names the key it was made with (its id), so the key can be rotated:
 *
 * - caller hash:  hmac:v1:<key id>:<hex HMAC-SHA256(hash subkey, sha256(salt + ':' + number) in hex)>
 *   The inner sha256 is what callsync stored before the key (with the per-database salt of
 *   callsync_settings), so `make migrate` turns every such hash into the keyed form without knowing
 *   the number. Without the key, a dump's hashes cannot be checked against any number.
 * - secret:       enc:v1:<key id>:<iv>:<tag>:<ciphertext>, base64url, AES-256-GCM with a random
 *   12-byte IV; the prefix up to the key id is the additional data, so it cannot be swapped unnoticed.
 *
 * Key id: the first 8 hex characters of SHA-256(key). Each use has a subkey of its own (HKDF-SHA256).
 */

/** The key material config parsed: CALLSYNC_SECRET_KEY and CALLSYNC_SECRET_KEY_PREVIOUS, 64 hex each. */
export interface SecretKeyMaterial {
  readonly current: string;
  readonly previous: readonly string[];
}

const HASH_PREFIX = 'hmac:v1:';
const ENCRYPTED_PREFIX = 'enc:v1:';
const IV_BYTES = 12;

interface Key {
  id: string;
  hash: Buffer;
  encryption: Buffer;
}

function derive(hex: string): Key {
  const key = Buffer.from(hex, 'hex');
  if (key.length !== 32 || key.toString('hex') !== hex.toLowerCase())
    throw new SecretKeyError('a secret key is 32 bytes, given as 64 hex characters');
  const sub = (info: string) => Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32));
  return {
    id: createHash('sha256').update(key).digest('hex').slice(0, 8),
    hash: sub('callsync caller hash v1'),
    encryption: sub('callsync secret encryption v1'),
  };
}

/** A stored value the keyring cannot read: made with a key it does not have, or altered. */
export class SecretKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretKeyError';
  }
}

/** A number callsync can hash: 'anonymous' (a withheld caller ID) and nothing name no one. */
function hashable(number: string | null | undefined): number is string {
  return typeof number === 'string' && number !== '' && number.toLowerCase() !== 'anonymous';
}

/** What callsync stored as caller_hash before the secret key: sha256(salt + ':' + number), hex. */
export function legacyCallerHash(number: string, salt: string): string {
  return createHash('sha256').update(`${salt}:${number}`, 'utf8').digest('hex');
}

/** A caller_hash in the form stored before the secret key (bare hex), which `make migrate` rewraps. */
export function isLegacyCallerHash(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}

/** The current key and the keys it replaced; pure node:crypto, no I/O. */
export class SecretKeyring {
  /** The current key first. */
  private readonly keys: readonly Key[];

  constructor(material: SecretKeyMaterial) {
    const keys: Key[] = [];
    for (const hex of [material.current, ...material.previous]) {
      const key = derive(hex);
      if (!keys.some((k) => k.id === key.id)) keys.push(key);
    }
    this.keys = keys;
  }

  /** The id of CALLSYNC_SECRET_KEY, as stored values name it. */
  get keyId(): string {
    return this.keys[0]!.id;
  }

  /** Every key's id, the current one first. */
  get keyIds(): readonly string[] {
    return this.keys.map((k) => k.id);
  }

  private keyed(key: Key, legacyHex: string): string {
    return `${HASH_PREFIX}${key.id}:${createHmac('sha256', key.hash).update(legacyHex, 'utf8').digest('hex')}`;
  }

  /** The hash a pruned session keeps of its customer's number, under the current key; null: no one to hash. */
  callerHash(number: string | null | undefined, salt: string): string | null {
    return hashable(number) ? this.keyed(this.keys[0]!, legacyCallerHash(number, salt)) : null;
  }

  /** The number's hash under every key, current first: a lookup matches rows hashed before a rotation. */
  callerHashes(number: string | null | undefined, salt: string): string[] {
    if (!hashable(number)) return [];
    const legacy = legacyCallerHash(number, salt);
    return this.keys.map((k) => this.keyed(k, legacy));
  }

  /** A caller_hash stored before the key (legacyCallerHash), in the keyed form callerHash gives. */
  rewrapLegacyCallerHash(legacyHex: string): string {
    if (!isLegacyCallerHash(legacyHex)) throw new SecretKeyError('not a caller hash from before the secret key');
    return this.keyed(this.keys[0]!, legacyHex);
  }

  /** What values encrypted with the current key start with. */
  get encryptedPrefix(): string {
    return `${ENCRYPTED_PREFIX}${this.keyId}:`;
  }

  /** `plain` encrypted with the current key (AES-256-GCM), as text to store. */
  encrypt(plain: string): string {
    const key = this.keys[0]!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key.encryption, iv);
    cipher.setAAD(Buffer.from(this.encryptedPrefix, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const b64 = (b: Buffer) => b.toString('base64url');
    return `${this.encryptedPrefix}${b64(iv)}:${b64(cipher.getAuthTag())}:${b64(ciphertext)}`;
  }

  /** The plain text of an encrypted value, with whichever key of the ring encrypted it. */
  decrypt(stored: string): string {
    const m = /^enc:v1:([0-9a-f]{8}):([A-Za-z0-9_-]+):([A-Za-z0-9_-]+):([A-Za-z0-9_-]*)$/.exec(stored);
    if (!m) throw new SecretKeyError('not a value callsync encrypted (enc:v1:<key id>:...)');
    const [, id, iv, tag, ciphertext] = m as unknown as [string, string, string, string, string];
    const key = this.keys.find((k) => k.id === id);
    if (!key)
      throw new SecretKeyError(
        `encrypted with key ${id}, which is neither CALLSYNC_SECRET_KEY (${this.keyId}) nor in CALLSYNC_SECRET_KEY_PREVIOUS` +
          (this.keys.length > 1 ? ` (${this.keyIds.slice(1).join(', ')})` : '') +
          ': list that key in CALLSYNC_SECRET_KEY_PREVIOUS',
      );
    try {
      const decipher = createDecipheriv('aes-256-gcm', key.encryption, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(`${ENCRYPTED_PREFIX}${id}:`, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new SecretKeyError(`a value encrypted with key ${id} does not decrypt: it was altered`, { cause: err });
    }
  }
}

/** A stored value a keyring encrypted (with any key); anything else is plain text from before the key. */
export function isEncrypted(stored: string): boolean {
  return stored.startsWith(ENCRYPTED_PREFIX);
}
