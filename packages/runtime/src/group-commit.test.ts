import { AbandonedError, BacklogFullError, deferred, GroupCommit, type Settled } from './group-commit';

/** A committer the test releases by hand, recording each batch. */
function manualCommitter() {
  const batches: number[][] = [];
  const gates: ReturnType<typeof deferred<void>>[] = [];
  const commit = async (items: readonly number[]): Promise<Settled<string>[]> => {
    batches.push([...items]);
    const gate = deferred<void>();
    gates.push(gate);
    await gate.promise;
    return items.map((n) => (n < 0 ? { ok: false, error: new Error(`bad ${n}`) } : { ok: true, value: `row ${n}` }));
  };
  const release = async (i: number) => {
    while (!gates[i]) await new Promise((r) => setTimeout(r, 1));
    gates[i]!.resolve();
  };
  return { batches, commit, release };
}

describe('GroupCommit', () => {
  it('sends a lone item at once, and what arrives meanwhile as the next batch, each with its own outcome', async () => {
    const c = manualCommitter();
    const group = new GroupCommit({ commit: c.commit, maxBatch: 10 });
    const first = group.submit(1);
    const rest = [2, -3, 4].map((n) => group.submit(n).catch((err: Error) => err.message));
    await c.release(0);
    await c.release(1);
    expect(await first).toBe('row 1');
    expect(await Promise.all(rest)).toEqual(['row 2', 'bad -3', 'row 4']);
    expect(c.batches).toEqual([[1], [2, -3, 4]]);
  });

  it('refuses beyond its backlog bound, and lets a waiting item be abandoned', async () => {
    const c = manualCommitter();
    const group = new GroupCommit({
      commit: c.commit,
      maxBatch: 10,
      maxWaiting: 2,
      describeFull: ({ items }) => `${items} already wait`,
    });
    const inFlight = group.submit(1);
    const abandoned = group.enter(2);
    const kept = group.submit(3);
    await expect(group.submit(4)).rejects.toEqual(new BacklogFullError('2 already wait'));
    abandoned.abandon('client gone');
    await expect(abandoned.promise).rejects.toEqual(new AbandonedError('client gone'));
    expect(group.backlog().items).toBe(1);
    await c.release(0);
    await c.release(1);
    expect([await inFlight, await kept]).toEqual(['row 1', 'row 3']);
    expect(c.batches).toEqual([[1], [3]]);
  });

  it('enter(): abandon rejects an item still waiting, and does nothing once its batch has started', async () => {
    const c = manualCommitter();
    const group = new GroupCommit({ commit: c.commit, maxBatch: 10 });
    const started = group.enter(1);
    const waiting = group.enter(2);
    started.abandon('too late');
    waiting.abandon('deadline passed');
    await expect(waiting.promise).rejects.toEqual(new AbandonedError('deadline passed'));
    expect(group.backlog()).toEqual({ items: 0, size: 0 });
    await c.release(0);
    expect(await started.promise).toBe('row 1');
    // The abandoned item never reaches a batch.
    const next = group.enter(3);
    await c.release(1);
    expect(await next.promise).toBe('row 3');
    expect(c.batches).toEqual([[1], [3]]);
  });

  it('answers a batch only after afterCommit, and rejects every item when the commit fails as a whole', async () => {
    const order: string[] = [];
    const group = new GroupCommit<number, number>({
      commit: async (items) => items.map((n) => ({ ok: true, value: n })),
      afterCommit: async () => void order.push('after'),
      maxBatch: 5,
    });
    await group.submit(7).then(() => order.push('answered'));
    expect(order).toEqual(['after', 'answered']);
    const failing = new GroupCommit<number, number>({
      commit: async () => {
        throw new Error('database unavailable');
      },
      maxBatch: 5,
    });
    await expect(failing.submit(1)).rejects.toThrow('database unavailable');
  });
});
