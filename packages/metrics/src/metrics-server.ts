import { createServer, type ServerResponse, type Server } from 'node:http';
import type { Metrics } from './metrics';

/** A readiness check: whether the process can do its work now, and what each dependency said. */
export type ReadinessCheck = () => Promise<{ ready: boolean; body: Record<string, string> }>;

export interface OpsServerOptions {
  /** Also serve /healthz (alive) and /readyz (this check). Without it, /metrics only. */
  readiness?: ReadinessCheck;
  /** Default 0.0.0.0. */
  host?: string;
}

/** Run each dependency's check at once: 'ok', or 'unavailable' when it failed (a readiness body). */
export async function probeDependencies<K extends string>(
  checks: Record<K, () => Promise<unknown>>,
): Promise<Record<K, 'ok' | 'unavailable'>> {
  const names = Object.keys(checks) as K[];
  const results = await Promise.allSettled(names.map((name) => checks[name]()));
  return Object.fromEntries(
    names.map((name, i) => [name, results[i]!.status === 'fulfilled' ? 'ok' : 'unavailable']),
  ) as Record<K, 'ok' | 'unavailable'>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * /metrics (and, for processes without a public port, /healthz and /readyz) on a listener of its own,
 * apart from any public webhook port: a scrape, or a flood of them, never queues with webhook requests,
 * and the public URL does not expose it. Port 0 picks a free one; the bound port is returned.
 */
export async function startMetricsServer(
  port: number,
  metrics: Metrics,
  { readiness, host = '0.0.0.0' }: OpsServerOptions = {},
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      metrics.text().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        (err: Error) => json(res, 500, { error: err.message }),
      );
    } else if (req.method === 'GET' && readiness && path === '/healthz') {
      json(res, 200, { status: 'ok' });
    } else if (req.method === 'GET' && readiness && path === '/readyz') {
      readiness().then(
        ({ ready, body }) => json(res, ready ? 200 : 503, body),
        (err: Error) => json(res, 503, { error: err.message }),
      );
    } else {
      json(res, 404, { error: `no route for ${req.method} ${path}` });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as { port: number }).port };
}
