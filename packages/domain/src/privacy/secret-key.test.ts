import { createHash } from 'node:crypto';
import { isEncrypted, isLegacyCallerHash, legacyCallerHash, SecretKeyError, SecretKeyring } from './secret-key';

const OLD = '11'.repeat(32);
const NEW = '22'.repeat(32);
const SALT = 'a1b2c3d4'.repeat(8);
const NUMBER = '+491604366218';

describe('SecretKeyring', () => {
  it('names each key by the first 8 hex characters of its SHA-256', () => {
    const keys = new SecretKeyring({ current: NEW, previous: [OLD, NEW] });
    const id = (hex: string) => createHash('sha256').update(Buffer.from(hex, 'hex')).digest('hex').slice(0, 8);
    expect(keys.keyId).toBe(id(NEW));
    expect(keys.keyIds).toEqual([id(NEW), id(OLD)]);
  });

  it('refuses key material that is not 32 bytes of hex', () => {
    expect(() => new SecretKeyring({ current: 'ab'.repeat(16), previous: [] })).toThrow(SecretKeyError);
    expect(() => new SecretKeyring({ current: 'zz'.repeat(32), previous: [] })).toThrow(SecretKeyError);
  });

  describe('caller hashes', () => {
    const keys = new SecretKeyring({ current: NEW, previous: [] });

    it('keys the hash: the same number and salt give one hash per key, and it names the key', () => {
      const hash = keys.callerHash(NUMBER, SALT)!;
      expect(hash).toMatch(new RegExp(`^hmac:v1:${keys.keyId}:[0-9a-f]{64}$`));
      expect(keys.callerHash(NUMBER, SALT)).toBe(hash);
      expect(keys.callerHash('+491604366219', SALT)).not.toBe(hash);
      expect(keys.callerHash(NUMBER, 'another salt')).not.toBe(hash);
      expect(new SecretKeyring({ current: OLD, previous: [] }).callerHash(NUMBER, SALT)).not.toBe(hash);
      // Neither the plain nor the salted sha256 of the number is in it.
      expect(hash).not.toContain(legacyCallerHash(NUMBER, SALT));
      expect(hash).not.toContain(createHash('sha256').update(NUMBER).digest('hex'));
    });

    it('has no hash for a withheld caller or no number', () => {
      for (const none of ['anonymous', 'Anonymous', '', null, undefined]) {
        expect(keys.callerHash(none, SALT)).toBeNull();
        expect(keys.callerHashes(none, SALT)).toEqual([]);
      }
    });

    it('rewraps a hash from before the key into the same keyed hash, without the number', () => {
      const legacy = legacyCallerHash(NUMBER, SALT);
      expect(isLegacyCallerHash(legacy)).toBe(true);
      expect(keys.rewrapLegacyCallerHash(legacy)).toBe(keys.callerHash(NUMBER, SALT));
      expect(isLegacyCallerHash(keys.callerHash(NUMBER, SALT)!)).toBe(false);
      expect(() => keys.rewrapLegacyCallerHash(keys.callerHash(NUMBER, SALT)!)).toThrow(SecretKeyError);
    });

    it('matches hashes made under a previous key after a rotation, the current key first', () => {
      const before = new SecretKeyring({ current: OLD, previous: [] }).callerHash(NUMBER, SALT)!;
      const rotated = new SecretKeyring({ current: NEW, previous: [OLD] });
      expect(rotated.callerHashes(NUMBER, SALT)).toEqual([rotated.callerHash(NUMBER, SALT), before]);
    });
  });

  describe('encryption', () => {
    const keys = new SecretKeyring({ current: NEW, previous: [] });
    const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

    it('encrypts with a random IV under the current key and decrypts back', () => {
      const a = keys.encrypt(SECRET);
      const b = keys.encrypt(SECRET);
      expect(a).toMatch(new RegExp(`^enc:v1:${keys.keyId}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]+$`));
      expect(a).not.toBe(b);
      expect(a).not.toContain(SECRET.slice(6));
      expect(isEncrypted(a)).toBe(true);
      expect(isEncrypted(SECRET)).toBe(false);
      expect(keys.decrypt(a)).toBe(SECRET);
      expect(keys.decrypt(b)).toBe(SECRET);
    });

    it('decrypts what a previous key encrypted, and names a key it does not have', () => {
      const old = new SecretKeyring({ current: OLD, previous: [] });
      const stored = old.encrypt(SECRET);
      expect(new SecretKeyring({ current: NEW, previous: [OLD] }).decrypt(stored)).toBe(SECRET);
      expect(() => keys.decrypt(stored)).toThrow(
        new RegExp(`encrypted with key ${old.keyId}, which is neither CALLSYNC_SECRET_KEY \\(${keys.keyId}\\)`),
      );
    });

    it('refuses an altered value', () => {
      const stored = keys.encrypt(SECRET);
      const parts = stored.split(':');
      const ciphertext = Buffer.from(parts[5]!, 'base64url');
      ciphertext[0] = ciphertext[0]! ^ 1;
      parts[5] = ciphertext.toString('base64url');
      expect(() => keys.decrypt(parts.join(':'))).toThrow(/does not decrypt: it was altered/);
      expect(() => keys.decrypt(SECRET)).toThrow(SecretKeyError);
    });
  });
});
