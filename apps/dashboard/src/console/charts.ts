import type { DayOutcome, MinuteCount } from '@callsync/db/ops';

/*
 * The charts page's data: events per minute over the last 24 hours, calls per day over the last
 * 14 days, in uPlot's shape (seconds on the x axis). Pure, given the time it is now.
 */

const MINUTE = 60;
const DAY = 86_400;
const EVENT_HOURS = 24;
const CALL_DAYS = 14;

export interface Series {
  x: number[];
  series: { label: string; values: number[] }[];
}

/**
 * Points to uPlot's shape: one x axis with every step from `from` to `to` (so bars keep their width
 * and gaps show as 0), one series per label (sorted).
 */
export function toSeries(
  points: readonly { x: number; label: string; value: number }[],
  from: number,
  to: number,
  step: number,
): Series {
  const x: number[] = [];
  for (let v = from; v <= to; v += step) x.push(v);
  const index = new Map(x.map((v, i) => [v, i]));
  const labels = [...new Set(points.map((p) => p.label))].sort();
  const series = labels.map((label) => ({ label, values: x.map(() => 0) }));
  for (const p of points) {
    const i = index.get(p.x);
    if (i !== undefined) series[labels.indexOf(p.label)]!.values[i] = p.value;
  }
  return { x, series };
}

/** What the charts read from Postgres: events since `events`, calls started since `calls`. */
export function chartWindows(nowMs: number): { events: Date; calls: Date } {
  return {
    events: new Date(nowMs - EVENT_HOURS * 3600_000),
    calls: new Date(nowMs - CALL_DAYS * DAY * 1000),
  };
}

/** /console/charts.json: both charts' series and x ranges (the calls' range pads half a day each side for bars). */
export function chartsData(minutes: readonly MinuteCount[], days: readonly DayOutcome[], nowMs: number) {
  const minute = Math.floor(nowMs / 60_000) * MINUTE;
  const today = Math.floor(nowMs / 86_400_000) * DAY;
  const firstMinute = minute - EVENT_HOURS * 3600;
  return {
    eventsRange: [firstMinute, minute + MINUTE],
    callsRange: [today - (CALL_DAYS - 0.5) * DAY, today + 0.5 * DAY],
    events: toSeries(
      minutes.map((m) => ({ x: m.minute.getTime() / 1000, label: m.status, value: m.events })),
      firstMinute,
      minute,
      MINUTE,
    ),
    calls: toSeries(
      days.map((d) => ({
        x: Date.parse(`${d.day}T00:00:00Z`) / 1000,
        label: `${d.company} · ${d.outcome}`,
        value: d.calls,
      })),
      today - (CALL_DAYS - 1) * DAY,
      today,
      DAY,
    ),
  };
}
