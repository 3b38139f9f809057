import { Eta } from 'eta';
import type { Response } from 'express';
import { LAYOUT } from './templates';

const eta = new Eta({ autoEscape: true, autoTrim: false });

/** Sends a page: `template` rendered with `data` inside the layout (`head` goes first in the body, e.g. a stylesheet). */
export function renderPage(
  res: Response,
  page: { title: string; template: string; data: object; status?: number; head?: string },
): void {
  const body = `${page.head ?? ''}${eta.renderString(page.template, page.data)}`;
  res
    .status(page.status ?? 200)
    .type('html')
    .send(eta.renderString(LAYOUT, { title: page.title, body }));
}
