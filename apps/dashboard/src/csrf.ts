import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

/*
 * CSRF for the console's forms: a random token per browser session, kept in a cookie only this
 * site's pages can read back (HttpOnly, SameSite=Strict) and repeated in each form. A POST is
 * accepted only when the form's token equals its cookie's, and the token is then replaced, so a
 * form body that leaked (a log, a proxy) is worth nothing: it holds no secret the server keeps,
 * and it stops working after its one use.
 */

export const CSRF_COOKIE = 'callsync_csrf';

function cookieToken(req: Request): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === CSRF_COOKIE) return value.join('=');
  }
  return undefined;
}

function issue(req: Request, res: Response): string {
  const token = randomBytes(32).toString('base64url');
  // Secure when the browser reached us over TLS, directly or through a proxy that terminates it.
  const secure = req.secure || req.get('x-forwarded-proto') === 'https';
  res.append(
    'Set-Cookie',
    `${CSRF_COOKIE}=${token}; Path=/console; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`,
  );
  res.locals.csrf = token;
  return token;
}

/** The session's token for a form: the one its cookie holds, or a new one set on the response. */
export function csrfToken(req: Request, res: Response): string {
  if (typeof res.locals.csrf === 'string') return res.locals.csrf;
  const held = cookieToken(req);
  return held && /^[A-Za-z0-9_-]{43}$/.test(held) ? held : issue(req, res);
}

/** Whether the form's token is its cookie's; if so the session gets a new one (csrfToken returns it). */
export function checkCsrf(req: Request, res: Response, given: unknown): boolean {
  const held = cookieToken(req);
  if (typeof given !== 'string' || !held || given.length !== held.length) return false;
  if (!timingSafeEqual(Buffer.from(given), Buffer.from(held))) return false;
  issue(req, res);
  return true;
}
