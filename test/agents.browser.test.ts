import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import type { Browser, BrowserContext } from 'playwright-core';
import { createDashboardApp } from '@callsync/dashboard';
import { addCompany } from '@callsync/db/tenants';
import { createTestDatabase, type TestDatabase } from './support/database';
import { serviceUrls } from './support/env';
import { DASHBOARD_AUTH as AUTH, launchChromium, SCREENSHOTS, serveOnLoopback } from './support/browser';

/**
 * Agent versions compared in a real headless Chromium at 1280x800: from the agents list to one
 * agent's page, the flagged difference, both uPlot charts drawn, and a version's calls one click away.
 */
let t: TestDatabase;
let queue: Queue;
let server: Server;
let base: string;
let browser: Browser;
let context: BrowserContext;

beforeAll(async () => {
  t = await createTestDatabase();
  queue = new Queue(`agents-browser-${Date.now()}`, { connection: { url: serviceUrls().redisUrl } });
  const weber = (await addCompany(t.db, 'Praxis Weber', 'Europe/Berlin')).id;
  // Seven days of agent_demo: v7 until three days ago, then v8 (less successful, slower) alongside it.
  await sql`insert into retell_call_sessions (call_id, call_status, started_at, company_id, agent_id, agent_version,
      call_successful, user_sentiment, duration_ms, cost_cents, latency)
    select 'call_' || v || '_' || i, 'ended', now() - make_interval(mins => case when v = 7 then i * 50 else i * 20 end),
      ${weber}::bigint, 'agent_demo', v, case when v = 7 then i % 5 <> 0 else i % 2 = 0 end,
      (array['Positive', 'Neutral', 'Negative'])[1 + i % 3], 45000 + i * 100, 11,
      jsonb_build_object('e2e', jsonb_build_object('p50', case when v = 7 then 780 else 960 end + (i * 37) % 150),
        'llm', jsonb_build_object('p50', 400 + i % 60), 'tts', jsonb_build_object('p50', 210 + i % 30))
    from generate_series(1, 200) i, (values (7), (8)) as versions(v)`.execute(t.db);
  const app = createDashboardApp({ queues: [queue], db: t.db, auth: AUTH });
  ({ server, base } = await serveOnLoopback(app));
  browser = await launchChromium();
  context = await browser.newContext({
    httpCredentials: { username: AUTH.user, password: AUTH.password },
    viewport: { width: 1280, height: 800 },
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise((r) => server?.close(r));
  await queue?.obliterate({ force: true });
  await queue?.close();
  await t?.drop();
});

describe('agent versions in Chromium', () => {
  it('from the list to an agent: versions side by side, the drop flagged, both charts drawn', async () => {
    const page = await context.newPage();
    await page.goto(`${base}/console/agents`);
    await page.getByText('success worse than v7').waitFor();
    await page.screenshot({ path: join(SCREENSHOTS, 'console-agents.png') });
    await page.getByRole('link', { name: 'agent_demo' }).click();
    await page.getByRole('heading', { name: 'Agent agent_demo' }).waitFor();
    await page.getByRole('columnheader', { name: /v8/ }).waitFor();
    await page.getByRole('columnheader', { name: /v7/ }).waitFor();
    expect(await page.locator('td.flag-worse').count()).toBeGreaterThanOrEqual(2);
    for (const id of ['success-chart', 'latency-chart']) {
      await page.locator(`#${id}[data-rendered]`).waitFor();
      expect(Number(await page.locator(`#${id}`).getAttribute('data-rendered'))).toBeGreaterThan(0);
      expect(await page.locator(`#${id} canvas`).count()).toBe(1);
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'console-agent-versions.png'), fullPage: true });
    await page.getByRole('link', { name: 'its calls' }).first().click();
    await page.getByRole('heading', { name: 'Calls' }).waitFor();
    expect(await page.getByLabel('Version').inputValue()).toBe('8');
    await page
      .getByRole('link', { name: /^call_8_/ })
      .first()
      .waitFor();
    expect(await page.getByRole('link', { name: /^call_7_/ }).count()).toBe(0);
    await page.close();
  });
});
