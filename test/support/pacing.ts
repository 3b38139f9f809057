/**
 * Sends at `perSecond` at most, as the forward gate guarantees them: each send waits for its
 * reserved time, and the reserved times are 1/perSecond apart from the first admission on (no earlier
 * than `startedAt`). So the i-th send (in time order) comes at least i/perSecond after `startedAt`,
 * however late a loaded machine runs some of them (a late send can bunch with the next ones, so a
 * count per second of the receiver's clock is no guarantee). Returns the sends that came too early.
 */
export function sentTooEarly(receivedAt: readonly number[], startedAt: number, perSecond: number): string[] {
  const slackMs = 50;
  return [...receivedAt]
    .sort((a, b) => a - b)
    .flatMap((at, i) => {
      const earliest = startedAt + (i * 1000) / perSecond - slackMs;
      return at < earliest
        ? [`send ${i + 1} at +${at - startedAt} ms, before +${Math.round(earliest - startedAt)} ms`]
        : [];
    });
}
