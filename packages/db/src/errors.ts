/**
 * What a database error means for the caller, decided by SQLSTATE class (never by message text, except
 * for the pg client's own errors, which carry no code):
 * - `transient`: the database could not do it now: connection (08), transaction rollback such as a
 *   deadlock or serialization failure (40), insufficient resources such as a full disk or too many
 *   connections (53), lock not available or object busy (55), operator intervention such as a
 *   statement timeout or a restart (57), system/IO error (58), and network or DNS errors. Retry later.
 * - `schema`: a missing table or column, a permission (42). Usually a deploy in progress (migrations
 *   not yet run): retry, and alert if it persists.
 * - `data`: the data itself is wrong: invalid text or number (22), a violated constraint (23). No
 *   retry can fix it.
 * - `other`: anything else (a bug, an unknown error); retried a few times.
 */
export type DatabaseErrorKind = 'transient' | 'schema' | 'data' | 'other';

const TRANSIENT_CLASSES = new Set(['08', '40', '53', '55', '57', '58']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ECONNABORTED',
]);
/** The pg client's and pool's own errors, which have no code. */
const CLIENT_UNAVAILABLE = new RegExp(
  [
    'timeout exceeded when trying to connect',
    'Query read timeout',
    'Connection terminated',
    'Client has encountered a connection error',
    'Connection ended unexpectedly',
  ].join('|'),
  'i',
);

export function classifyDatabaseError(err: unknown): DatabaseErrorKind {
  if (!(err instanceof Error)) return 'other';
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code)) return 'transient';
    if (/^[0-9A-Z]{5}$/.test(code)) {
      const cls = code.slice(0, 2);
      if (TRANSIENT_CLASSES.has(cls)) return 'transient';
      if (cls === '42') return 'schema';
      if (cls === '22' || cls === '23') return 'data';
      return 'other';
    }
  }
  return CLIENT_UNAVAILABLE.test(err.message) ? 'transient' : 'other';
}

/** True when the database could not do it now (unreachable, overloaded, locked, timed out), not that the query was wrong. */
export function isDatabaseUnavailable(err: unknown): boolean {
  return classifyDatabaseError(err) === 'transient';
}

/** True when retrying the same statement can never succeed: bad data or a violated constraint. */
export function isPermanentDatabaseError(err: unknown): boolean {
  return classifyDatabaseError(err) === 'data';
}

/**
 * Postgres refused text as jsonb although it is valid JSON: U+0000 (22P05, untranslatable character)
 * or an unpaired surrogate escape (22P02/22025/22021). The caller can store a cleaned copy instead.
 */
export function isJsonbEncodingError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '22P05' || code === '22025' || code === '22021' || code === '22P02';
}
