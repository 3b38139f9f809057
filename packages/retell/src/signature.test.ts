import { sign, verify } from 'retell-sdk';
import { checkSignatureHeader, signRetellBody, verifyRetellSignature } from './signature';

const key = 'key_test_0123456789';
const body = JSON.stringify({ event: 'call_started', call: { call_id: 'c1', from_number: '+491604366218' } });

describe('verifyRetellSignature', () => {
  it('accepts a signature made by the official retell-sdk', async () => {
    const header = await sign(body, key);
    expect(verifyRetellSignature(Buffer.from(body), header, [key])).toMatchObject({ ok: true });
  });

  it('agrees with retell-sdk verify on our own signatures', async () => {
    await expect(verify(body, key, signRetellBody(body, key))).resolves.toBe(true);
  });

  it('accepts any key of a rotated list', async () => {
    const header = await sign(body, 'key_old');
    expect(verifyRetellSignature(Buffer.from(body), header, ['key_new', 'key_old']).ok).toBe(true);
  });

  it('refuses a missing, malformed, wrong-key or tampered signature', async () => {
    const header = await sign(body, key);
    expect(verifyRetellSignature(Buffer.from(body), undefined, [key])).toEqual({ ok: false, reason: 'missing' });
    expect(verifyRetellSignature(Buffer.from(body), 'sha256=abc', [key])).toEqual({ ok: false, reason: 'malformed' });
    expect(verifyRetellSignature(Buffer.from(body), header, ['other'])).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyRetellSignature(Buffer.from(body + ' '), header, [key])).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('judges the header alone, before any body: missing, malformed, stale or plausible', () => {
    const t = 1_761_300_000_000;
    const now = () => t;
    expect(checkSignatureHeader(undefined, { now })).toEqual({ ok: false, reason: 'missing' });
    expect(checkSignatureHeader('v=1,d=xyz', { now })).toEqual({ ok: false, reason: 'malformed' });
    expect(checkSignatureHeader(signRetellBody(body, key, t - 6 * 60 * 1000), { now })).toEqual({
      ok: false,
      reason: 'stale',
    });
    // Plausible is not verified: any key's HMAC of any body passes the header check.
    expect(checkSignatureHeader(signRetellBody('other', 'other key', t), { now })).toMatchObject({ ok: true });
  });

  it('refuses a timestamp more than the tolerance away, either way', () => {
    const t = 1_761_300_000_000;
    const header = signRetellBody(body, key, t);
    const at = (now: number) => verifyRetellSignature(Buffer.from(body), header, [key], { now: () => now });
    expect(at(t + 5 * 60 * 1000).ok).toBe(true);
    expect(at(t + 5 * 60 * 1000 + 1)).toEqual({ ok: false, reason: 'stale' });
    expect(at(t - 5 * 60 * 1000 - 1)).toEqual({ ok: false, reason: 'stale' });
  });
});
