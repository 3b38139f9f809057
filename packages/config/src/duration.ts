import { z } from 'zod';

const UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** What a duration setting accepts, for error messages and docs/configuration.md. */
export const DURATION_FORMAT = 'a number with a unit (ms, s, m, h or d), such as 30s, 5m, 2h or 90d';

/** "30s" -> 30000, "1.5h" -> 5400000, "0" -> 0; undefined when the text is no duration. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(s);
  return m ? Math.round(Number(m[1]) * UNITS_MS[m[2]!]!) : undefined;
}

/** 300000 -> "5m": the largest unit that divides it, for messages that suggest a value. */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's']) {
    if (ms !== 0 && ms % UNITS_MS[unit]! === 0) return `${ms / UNITS_MS[unit]!}${unit}`;
  }
  return ms === 0 ? '0s' : `${ms}ms`;
}

/** One duration in milliseconds, at least `min` (default: more than 0) and at most `max`. */
export function duration({ min = 1, max }: { min?: number; max?: number } = {}) {
  return z.string().transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration: write ${DURATION_FORMAT}` });
      return z.NEVER;
    }
    if (ms < min) {
      ctx.addIssue({
        code: 'custom',
        message: min === 1 ? 'must be more than 0' : `must be at least ${formatDuration(min)}`,
      });
      return z.NEVER;
    }
    if (max !== undefined && ms > max) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${formatDuration(max)}` });
      return z.NEVER;
    }
    return ms;
  });
}

/** "5s,5m,30m,2h" -> milliseconds each; every entry a duration. */
export const durationList = z.string().transform((s, ctx) => {
  const out: number[] = [];
  for (const part of s.split(',').map((p) => p.trim())) {
    const ms = parseDuration(part);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${part}" is not a duration: write ${DURATION_FORMAT}` });
      return z.NEVER;
    }
    out.push(ms);
  }
  return out;
});
