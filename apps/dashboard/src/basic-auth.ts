import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { LoginThrottle } from './login-throttle';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * HTTP basic auth with a constant-time check: both sides are hashed to equal length first, and
 * user and password are always both compared, so timing reveals neither. Wrong credentials count
 * against the client's address (`throttle`): past a few, it waits ever longer and is answered 429,
 * whatever it sends, until the wait is over. A request without credentials (a browser's first) is
 * not a failure.
 */
export function basicAuth(
  user: string,
  password: string,
  throttle?: LoginThrottle,
  realm = 'callsync',
): RequestHandler {
  const wantUser = digest(user);
  const wantPassword = digest(password);
  return (req, res, next) => {
    const address = req.ip ?? '';
    const tooMany = (wait: number) =>
      void res
        .set('Retry-After', String(wait))
        .status(429)
        .json({ error: `too many failed logins from this address; try again in ${wait} s` });
    const wait = throttle?.retryAfterSeconds(address) ?? 0;
    if (wait > 0) return tooMany(wait);
    const header = req.get('authorization') ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const gotUser = colon >= 0 ? decoded.slice(0, colon) : '';
    const gotPassword = colon >= 0 ? decoded.slice(colon + 1) : '';
    const userOk = timingSafeEqual(digest(gotUser), wantUser);
    const passwordOk = timingSafeEqual(digest(gotPassword), wantPassword);
    if (m && userOk && passwordOk) {
      throttle?.succeeded(address);
      return next();
    }
    if (header && throttle) {
      const delay = throttle.failed(address);
      if (delay > 0) return tooMany(delay);
    }
    res
      .set('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`)
      .status(401)
      .json({ error: 'authentication required' });
  };
}
