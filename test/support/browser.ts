import type { Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Where browser tests save their screenshots (git-ignored). */
export const SCREENSHOTS = join(__dirname, '..', '..', 'test-output');

/** The dashboard's basic-auth credentials in the browser tests. */
export const DASHBOARD_AUTH = { user: 'oncall', password: 'correct horse battery staple' };

/** An app (the dashboard) listening on a free loopback port, and its base URL. */
export async function serveOnLoopback(app: {
  listen: (port: number, host: string) => Server;
}): Promise<{ server: Server; base: string }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

/** Debian's headless Chromium, driven by playwright-core (`npx playwright install` cannot download here). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
