/*
 * A destination's URL may carry its credentials: a password (https://user:pass@host) or a token in the
 * query (?token=..., ?api_key=..., a presigned ?X-Amz-Signature=...). Whatever callsync prints shows
 * them masked; the stored URL, which callsync sends to, keeps them.
 */

export const MASK = '***';

/** Query parameter names that look like they hold a credential. */
const CREDENTIAL_NAME = /token|key|secret|sig|auth|pass|pwd|code|credential|hmac|jwt/i;

function decoded(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name; // a malformed escape: test the name as written
  }
}

/**
 * The URL with the userinfo password (or a lone user name, which is often a token) and the values of
 * credential-like query parameters replaced by ***. Anything else stays as it was; text that is not a
 * URL is returned unchanged.
 */
export function maskUrlCredentials(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return text;
  }
  if (url.password) url.password = MASK;
  else if (url.username) url.username = MASK;
  if (url.search.length > 1) {
    url.search = url.search
      .slice(1)
      .split('&')
      .map((pair) => {
        const i = pair.indexOf('=');
        return i >= 0 && CREDENTIAL_NAME.test(decoded(pair.slice(0, i))) ? `${pair.slice(0, i)}=${MASK}` : pair;
      })
      .join('&');
  }
  return url.toString();
}
