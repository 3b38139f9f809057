import { Webhook } from 'standardwebhooks';
import { newSigningSecret, secretHint, signDelivery } from './signing';

/*
 * Deliveries are signed the Standard Webhooks way, checked here with that library's own verify(),
 * which refuses a timestamp more than 5 minutes off its clock: Jest's fake clock stands in for the
 * receiver's.
 */

const signedAt = new Date(Date.UTC(2026, 11, 6, 9, 0, 0, 750));
const body = JSON.stringify({ event: 'call_ended', call: { call_id: 'call_1' } });

afterEach(() => {
  jest.useRealTimers();
});

/** The receiver verifying `headers` with `secret`, its clock at `at`. */
function verifyAt(at: Date, secret: string, headers: Record<string, string>): 'ok' | string {
  jest.useFakeTimers({ now: at });
  try {
    new Webhook(secret).verify(body, headers);
    return 'ok';
  } catch (err) {
    return (err as Error).message;
  } finally {
    jest.useRealTimers();
  }
}

describe('signDelivery', () => {
  it('stamps the whole second it was signed in, and the message id', () => {
    const headers = signDelivery([newSigningSecret()], 'msg_1', signedAt, body);
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(signedAt.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('verifies for a receiver whose clock is within 5 minutes of the stamp, and not beyond', () => {
    const secret = newSigningSecret();
    const headers = { ...signDelivery([secret], 'msg_2', signedAt, body) };
    const minutes = (n: number) => new Date(signedAt.getTime() + n * 60_000);
    expect(verifyAt(minutes(4.9), secret, headers)).toBe('ok');
    expect(verifyAt(minutes(-4.9), secret, headers)).toBe('ok');
    expect(verifyAt(minutes(5.1), secret, headers)).toBe('Message timestamp too old');
    expect(verifyAt(minutes(-5.1), secret, headers)).toBe('Message timestamp too new');
  });

  it('during a rotation signs with every secret, so either one verifies', () => {
    const [current, previous, other] = [newSigningSecret(), newSigningSecret(), newSigningSecret()];
    const headers = { ...signDelivery([current, previous], 'msg_3', signedAt, body) };
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(verifyAt(signedAt, current, headers)).toBe('ok');
    expect(verifyAt(signedAt, previous, headers)).toBe('ok');
    expect(verifyAt(signedAt, other, headers)).toBe('No matching signature found');
  });
});

describe('signing secrets', () => {
  it('are whsec_ and 32 random bytes, told apart by a hint that never holds the key', () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(newSigningSecret()).not.toBe(secret);
    expect(secretHint(secret)).toBe(`${secret.slice(0, 10)}…`);
    expect(secretHint(secret).length).toBeLessThan(secret.length);
  });
});
