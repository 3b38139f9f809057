import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '@callsync/runtime';
import { freePort } from './ports';

export interface PrometheusTarget {
  job: string;
  /** host:port of a /metrics listener. */
  address: string;
}

export interface PrometheusAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
}

/**
 * A real Prometheus (Debian's `prometheus` binary) on loopback, scraping the given targets and
 * evaluating the given rule files every `intervalSeconds`, with its data in a throwaway folder. For
 * tests of callsync's alerts end to end.
 */
export class LocalPrometheus {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    private readonly output: () => string,
  ) {}

  static async start(options: {
    targets: readonly PrometheusTarget[];
    ruleFiles: readonly string[];
    intervalSeconds?: number;
    binary?: string;
  }): Promise<LocalPrometheus> {
    const dir = mkdtempSync(join(tmpdir(), 'callsync-prometheus-'));
    const interval = `${options.intervalSeconds ?? 1}s`;
    // JSON is YAML: Prometheus reads this as its config file.
    const config = {
      global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
      rule_files: options.ruleFiles,
      scrape_configs: options.targets.map((t) => ({ job_name: t.job, static_configs: [{ targets: [t.address] }] })),
    };
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const port = await freePort();
    const child = spawn(
      options.binary ?? 'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const p = new LocalPrometheus(child, dir, `http://127.0.0.1:${port}`, () => out);
    const ready = await waitUntil(
      () =>
        fetch(`${p.url}/-/ready`).then(
          (r) => (r.ok ? true : undefined),
          () => undefined,
        ),
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    if (!ready) {
      await p.stop();
      throw new Error(`Prometheus did not become ready:\n${out}`);
    }
    return p;
  }

  /** An instant query's result vector. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; data: { result: never[] }; error?: string };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
    return body.data.result;
  }

  /** Alerts pending or firing now. */
  async alerts(): Promise<PrometheusAlert[]> {
    const res = await fetch(`${this.url}/api/v1/alerts`);
    const body = (await res.json()) as { data: { alerts: PrometheusAlert[] } };
    return body.data.alerts;
  }

  logs(): string {
    return this.output();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
