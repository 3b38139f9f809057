import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Where browser tests save their screenshots (git-ignored). */
export const SCREENSHOTS = join(__dirname, '..', '..', 'test-output');

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
