import type { RetellCall } from '../events/call';
import { Slots } from './slots';
import { toolCallIdOf } from './tool-call-id';
import { stableJson } from '../events/delivery-identity';

const call = (entries: unknown[]) => ({ call_id: 'c1', transcript_with_tool_calls: entries }) as unknown as RetellCall;
const inv = (id: string, name: string, args: unknown) => ({
  role: 'tool_call_invocation',
  tool_call_id: id,
  name,
  arguments: JSON.stringify(args),
});

describe('toolCallIdOf', () => {
  it('takes the newest invocation of the function with the request’s args', () => {
    const entries = [
      { role: 'agent', content: 'Moment.' },
      inv('tc_1', 'book_slot', { slot: 'Thu' }),
      { role: 'tool_call_result', tool_call_id: 'tc_1', content: 'Booked.' },
      inv('tc_2', 'book_slot', { slot: 'Thu' }),
      // Parallel calls: another function, and the same function with other args, after it.
      inv('tc_3', 'look_up', { q: 'x' }),
      inv('tc_4', 'book_slot', { slot: 'Fri' }),
    ];
    expect(toolCallIdOf(call(entries), 'book_slot', stableJson({ slot: 'Thu' }))).toBe('tc_2');
    expect(toolCallIdOf(call(entries), 'book_slot', stableJson({ slot: 'Fri' }))).toBe('tc_4');
    expect(toolCallIdOf(call(entries), 'look_up', stableJson({ q: 'x' }))).toBe('tc_3');
  });

  it('none without a transcript, an invocation of this function, or matching args', () => {
    expect(toolCallIdOf(undefined, 'f', '{}')).toBeUndefined();
    expect(toolCallIdOf({ call_id: 'c1' } as RetellCall, 'f', '{}')).toBeUndefined();
    expect(toolCallIdOf(call([inv('tc_1', 'other', {})]), 'f', '{}')).toBeUndefined();
    expect(toolCallIdOf(call([inv('tc_1', 'f', { a: 1 })]), 'f', stableJson({ a: 2 }))).toBeUndefined();
    // Arguments that are not JSON: the name alone identifies it.
    expect(toolCallIdOf(call([{ ...inv('tc_9', 'f', {}), arguments: 'not json' }]), 'f', '{}')).toBe('tc_9');
  });
});

describe('Slots', () => {
  it('gives a released slot to the next waiter, once per release', async () => {
    const slots = new Slots(1);
    const first = await slots.acquire();
    let second = false;
    const waiting = slots.acquire().then((release) => {
      second = true;
      return release;
    });
    expect(slots.load).toBe(2);
    first();
    first(); // a second release of the same slot frees nothing more
    const release = await waiting;
    expect([second, slots.load]).toEqual([true, 1]);
    release();
    expect(slots.load).toBe(0);
  });
});
