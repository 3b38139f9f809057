import { Counter, Gauge, Histogram, Registry, type LabelValues } from 'prom-client';

/**
 * A series declared once, by name and help, and put on a registry by each process's `Metrics`
 * (one registry per process, so tests can run several side by side).
 */
export type Series<T> = (registry: Registry) => T;

/** The instruments of a table of series, once put on a registry. */
export type Registered<S> = { readonly [K in keyof S]: S[K] extends Series<infer T> ? T : never };

/**
 * A base class whose instances carry every series of `series` under its key, each put on the
 * instance's own registry (`registry`).
 */
export function withSeries<S extends Record<string, Series<unknown>>>(series: S) {
  return class {
    readonly registry = new Registry();
    constructor() {
      for (const [key, create] of Object.entries(series)) Object.assign(this, { [key]: create(this.registry) });
    }
  } as new () => { readonly registry: Registry } & Registered<S>;
}

export const counter =
  <L extends string>(name: string, help: string, labelNames: readonly L[]): Series<Counter<L>> =>
  (registry) =>
    new Counter({ name, help, labelNames, registers: [registry] });

export const histogram =
  <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Series<Histogram<L>> =>
  (registry) =>
    new Histogram({ name, help, labelNames, buckets, registers: [registry] });

/** One value of a gauge: its labels and the number. */
export type Sample<L extends string> = readonly [labels: LabelValues<L>, value: number];

/**
 * A gauge set on each scrape to what `read` returns; series it no longer returns are dropped. A
 * failed read leaves the gauge as it was for that scrape rather than failing /metrics.
 */
export function scrapedGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Promise<Iterable<Sample<L>>>,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      const samples = await read().catch(() => undefined);
      if (!samples) return;
      this.reset();
      for (const [labels, value] of samples) this.set(labels, value);
    },
  });
}

/** A gauge of one number, read on each scrape. */
export const numberGauge = (registry: Registry, name: string, help: string, read: () => Promise<number>): void =>
  scrapedGauge(registry, name, help, [], async () => [[{}, await read()]]);

/**
 * Gauges of one series per row of a shared read (per destination, per company, per agent): `labels`
 * names a row's series, and each gauge's `value` gives its number (null: no series for that row).
 */
export const rowGauges =
  <R, L extends string>(
    registry: Registry,
    labelNames: readonly L[],
    read: () => Promise<readonly R[]>,
    labels: (row: R) => LabelValues<L>,
  ) =>
  (name: string, help: string, value: (row: R) => number | null): void =>
    scrapedGauge(registry, name, help, labelNames, async () =>
      (await read()).flatMap((row) => {
        const v = value(row);
        return v === null ? [] : [[labels(row), v] as const];
      }),
    );
