import { identifyDelivery, stableJson } from './delivery-identity';
import { parseEnvelope } from './envelope';

function identify(body: object) {
  const parsed = parseEnvelope(body);
  if (!parsed.ok) throw new Error(parsed.message);
  return identifyDelivery(parsed.envelope, body, Buffer.from(JSON.stringify(body)));
}

describe('delivery identity', () => {
  it('lifecycle events: one key per call', () => {
    expect(identify({ event: 'call_ended', call: { call_id: 'c1', transcript: 'a' } }).dedupeKey).toBe('call_ended:c1');
    expect(identify({ event: 'chat_started', chat: { chat_id: 'h1' } }).dedupeKey).toBe('chat_started:h1');
  });

  it('analyses: the same analysis is one key, whatever its key order; a different one is another', () => {
    const a = identify({ event: 'call_analyzed', call: { call_id: 'c1', call_analysis: { x: 1, y: 2 } } });
    const b = identify({ event: 'call_analyzed', call: { call_id: 'c1', call_analysis: { y: 2, x: 1 } } });
    const c = identify({ event: 'call_analyzed', call: { call_id: 'c1', call_analysis: { x: 1, y: 3 } } });
    expect(a.dedupeKey).toBe(b.dedupeKey);
    expect(a.dedupeKey).not.toBe(c.dedupeKey);
    expect(a.dedupeKey.startsWith('call_analyzed:c1:a:')).toBe(true);
  });

  it('transfers: two transfers differ, a retry is the same', () => {
    const first = {
      event: 'transfer_started',
      call: { call_id: 'c1', transcript_object: [1, 2] },
      transfer_destination: '+49301',
    };
    const second = { ...first, call: { call_id: 'c1', transcript_object: [1, 2, 3, 4] } };
    expect(identify(first).dedupeKey).toBe(identify({ ...first }).dedupeKey);
    expect(identify(first).dedupeKey).not.toBe(identify(second).dedupeKey);
  });

  it('snapshots: one key per call, sized by the transcript', () => {
    expect(identify({ event: 'transcript_updated', call: { call_id: 'c1', transcript: 'Agent: Hallo' } })).toEqual({
      dedupeKey: 'transcript_updated:c1',
      snapshotSize: 12,
    });
  });

  it('unknown events without a subject: keyed by their body', () => {
    const k = identify({ event: 'call_inbound', call_inbound: { from_number: '+49' } }).dedupeKey;
    expect(k).toMatch(/^call_inbound::[0-9a-f]{32}$/);
  });

  it('stableJson sorts keys at every depth', () => {
    expect(stableJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });
});
