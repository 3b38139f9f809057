import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express from 'express';

/*
 * The console's stylesheets and scripts: files in apps/dashboard/assets (beside src/ and dist/, so
 * the same path serves tests from source and the built image), and uPlot's own, from its package
 * (never a CDN). Each is read once, when the router is made.
 */
const ASSETS = join(__dirname, '..', '..', 'assets');

const FILES: { name: string; type: string; file: string; maxAge: number }[] = [
  { name: 'console.css', type: 'css', file: join(ASSETS, 'console.css'), maxAge: 3600 },
  { name: 'charts.js', type: 'js', file: join(ASSETS, 'charts.js'), maxAge: 3600 },
  { name: 'agents.css', type: 'css', file: join(ASSETS, 'agents.css'), maxAge: 3600 },
  { name: 'agents.js', type: 'js', file: join(ASSETS, 'agents.js'), maxAge: 3600 },
  { name: 'uPlot.iife.min.js', type: 'js', file: require.resolve('uplot/dist/uPlot.iife.min.js'), maxAge: 86400 },
  { name: 'uPlot.min.css', type: 'css', file: require.resolve('uplot/dist/uPlot.min.css'), maxAge: 86400 },
];

/** GET /assets/<name> for each file above. */
export function assetsRouter(): express.Router {
  const router = express.Router();
  for (const { name, type, file, maxAge } of FILES) {
    const text = readFileSync(file, 'utf8');
    router.get(`/assets/${name}`, (_req, res) => {
      res.type(type).set('cache-control', `max-age=${maxAge}`).send(text);
    });
  }
  return router;
}
