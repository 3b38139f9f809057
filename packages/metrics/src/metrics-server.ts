import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics';

/**
 * /metrics on a listener of its own, apart from the public webhook port: a scrape (or a flood of
 * them) never queues behind or in front of webhook requests, and the public URL does not expose it.
 * Port 0 picks a free one; the bound port is returned.
 */
export async function startMetricsServer(
  port: number,
  metrics: Metrics,
  host = '0.0.0.0',
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: `no route for ${req.method} ${req.url}` }));
      return;
    }
    metrics.text().then(
      (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
      (err: Error) =>
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message })),
    );
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
