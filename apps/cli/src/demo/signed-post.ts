import { sign } from 'retell-sdk';

/** What a signed POST answered: the status, the body and how long it took. */
export interface SignedAnswer {
  status: number;
  text: string;
  ms: number;
}

/** POST a body, signed as Retell would sign it (retell-sdk), and read the answer. */
export async function signedPost(url: string, body: string, key: string): Promise<SignedAnswer> {
  const started = performance.now();
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-retell-signature': await sign(body, key) },
    body,
  });
  return { status: res.status, text: await res.text(), ms: performance.now() - started };
}

/** Sends one delivery and says what came back, as `make demo` prints it ("200 {...}"). */
export type Send = (body: string) => Promise<string>;
