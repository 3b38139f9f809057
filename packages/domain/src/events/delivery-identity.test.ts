import { identifyDelivery, stableJson, transferFacts } from './delivery-identity';
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

  const turn = (role: string, content: string) => ({ role, content, words: [] });

  it('transfers: two transfers differ, a retry is the same', () => {
    const first = {
      event: 'transfer_started',
      call: { call_id: 'c1', transcript_object: [turn('agent', 'Hallo'), turn('user', 'Praxis bitte')] },
      transfer_destination: { number: '+12137771235', extension: '1234' },
      transfer_option: { type: 'warm_transfer', showTransfereeAsCaller: true },
    };
    const later = {
      ...first,
      call: { call_id: 'c1', transcript_object: [...first.call.transcript_object, turn('agent', 'Einen Moment')] },
    };
    const otherExtension = { ...first, transfer_destination: { number: '+12137771235', extension: '99' } };
    expect(identify(first).dedupeKey).toBe(identify(JSON.parse(JSON.stringify(first))).dedupeKey);
    expect(identify(first).dedupeKey).not.toBe(identify(later).dedupeKey);
    // Retell's destination is an object: its extension is part of the key, not dropped as "not a string".
    expect(identify(first).dedupeKey).not.toBe(identify(otherExtension).dedupeKey);
    expect(identify(first).dedupeKey).not.toBe(
      identify({ ...first, transfer_destination: { number: '+4930123' } }).dedupeKey,
    );
  });

  it("transfers: Retell's object destination is read with its number and extension; a string still works", () => {
    expect(
      transferFacts({
        event: 'transfer_started',
        call: { call_id: 'c1' },
        transfer_destination: { number: '+12137771235', extension: '1234' },
        transfer_option: { type: 'warm_transfer', agentDetectionTimeoutMs: 15000 },
      }),
    ).toMatchObject({
      destination: { number: '+12137771235', extension: '1234' },
      destinationSent: { number: '+12137771235', extension: '1234' },
      option: { type: 'warm_transfer', agentDetectionTimeoutMs: 15000 },
    });
    expect(
      transferFacts({ event: 'transfer_started', call: { call_id: 'c1' }, transfer_destination: 'sip:a@b.c' }),
    ).toMatchObject({ destination: { number: 'sip:a@b.c', extension: null } });
    expect(transferFacts({ event: 'transfer_ended', call: { call_id: 'c1' } }).destination).toBeNull();
  });

  it('snapshots: progress is measured on whichever form the snapshot carries', () => {
    const turns = [turn('agent', 'Guten Tag'), turn('user', 'Ich brauche einen Termin')];
    const text = 'Agent: Guten Tag\nUser: Ich brauche einen Termin';
    const size = (call: object, extra: object = {}) =>
      identify({ event: 'transcript_updated', call: { call_id: 'c1', ...call }, ...extra }).snapshotSize;
    expect(size({ transcript: text })).toBe(text.length);
    expect(size({ transcript_object: turns })).toBe(text.length);
    expect(size({ transcript_with_tool_calls: turns })).toBe(text.length);
    expect(size({}, { transcript_with_tool_calls: turns })).toBe(text.length);
    // A tool call is progress too; one more turn is more.
    const withTool = [...turns, { role: 'tool_call_invocation', tool_call_id: 't1', name: 'book', arguments: '{}' }];
    expect(size({ transcript_with_tool_calls: withTool })!).toBeGreaterThan(text.length);
    expect(size({ transcript_object: [...turns, turn('agent', 'Gern')] })!).toBeGreaterThan(text.length);
    expect(size({})).toBe(0);
  });

  it('chat agents: transcript_updated names the chat', () => {
    expect(identify({ event: 'transcript_updated', chat: { chat_id: 'h1', transcript: 'User: Hallo' } })).toEqual({
      dedupeKey: 'transcript_updated:h1',
      snapshotSize: 11,
    });
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
