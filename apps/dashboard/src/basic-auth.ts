import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * HTTP basic auth with a constant-time check: both sides are hashed to equal length first, and
 * user and password are always both compared, so timing reveals neither.
 */
export function basicAuth(user: string, password: string, realm = 'callsync'): RequestHandler {
  const wantUser = digest(user);
  const wantPassword = digest(password);
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
    const decoded = m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    const gotUser = colon >= 0 ? decoded.slice(0, colon) : '';
    const gotPassword = colon >= 0 ? decoded.slice(colon + 1) : '';
    const userOk = timingSafeEqual(digest(gotUser), wantUser);
    const passwordOk = timingSafeEqual(digest(gotPassword), wantPassword);
    if (m && userOk && passwordOk) return next();
    res
      .set('WWW-Authenticate', `Basic realm="${realm}", charset="UTF-8"`)
      .status(401)
      .json({ error: 'authentication required' });
  };
}
