import { foldTransfers, type TransferEventFact } from './transfers';

let id = 0;
const at = (s: number) => new Date(Date.UTC(2025, 9, 24, 10, 0, s));
function fact(event_type: string, turn_count: number, destination: string | null, second: number): TransferEventFact {
  id += 1;
  return {
    id: String(id),
    event_type,
    destination,
    destination_extension: null,
    transfer_destination: destination ? { number: destination } : null,
    transfer_option: destination ? { type: 'warm_transfer' } : null,
    turn_count,
    transcript_chars: turn_count * 40,
    received_at: at(second),
  };
}

function permutations<T>(xs: readonly T[]): T[][] {
  return xs.length <= 1
    ? [[...xs]]
    : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('foldTransfers', () => {
  const events = [
    fact('transfer_started', 4, '+4930111', 1),
    fact('transfer_cancelled', 4, '+4930111', 20),
    fact('transfer_started', 9, '+4930222', 40),
    fact('transfer_bridged', 9, '+4930222', 45),
    fact('transfer_ended', 11, null, 300),
  ];

  it('groups the steps of each transfer, in conversation order', () => {
    expect(foldTransfers(events)).toEqual([
      {
        destination: '+4930111',
        extension: null,
        destination_sent: { number: '+4930111' },
        option: { type: 'warm_transfer' },
        outcome: 'cancelled',
        started_at: at(1).toISOString(),
        bridged_at: null,
        cancelled_at: at(20).toISOString(),
        ended_at: null,
      },
      {
        destination: '+4930222',
        extension: null,
        destination_sent: { number: '+4930222' },
        option: { type: 'warm_transfer' },
        outcome: 'bridged',
        started_at: at(40).toISOString(),
        bridged_at: at(45).toISOString(),
        cancelled_at: null,
        ended_at: at(300).toISOString(),
      },
    ]);
  });

  it('gives the same list for every order the events were recorded in', () => {
    const orders = permutations(events);
    expect(orders).toHaveLength(120);
    const want = JSON.stringify(foldTransfers(events));
    for (const o of orders) expect(JSON.stringify(foldTransfers(o))).toBe(want);
  });

  it('two transfers to one number but different extensions stay two', () => {
    const to = (event_type: string, extension: string, turns: number, second: number): TransferEventFact => ({
      ...fact(event_type, turns, '+12137771235', second),
      destination_extension: extension,
      transfer_destination: { number: '+12137771235', extension },
    });
    const list = foldTransfers([
      to('transfer_started', '5678', 4, 1),
      to('transfer_started', '1234', 4, 2),
      to('transfer_bridged', '5678', 4, 3),
      to('transfer_cancelled', '1234', 4, 4),
    ]);
    expect(list.map((t) => [t.extension, t.outcome])).toEqual([
      ['5678', 'bridged'],
      ['1234', 'cancelled'],
    ]);
  });

  it('a bridge whose start was never seen is still a transfer', () => {
    expect(foldTransfers([fact('transfer_bridged', 3, '+4930333', 5)])).toEqual([
      expect.objectContaining({ destination: '+4930333', outcome: 'bridged', started_at: null }),
    ]);
  });
});
