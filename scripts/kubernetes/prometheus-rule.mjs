#!/usr/bin/env node
// Writes deploy/kubernetes/components/monitoring/prometheus-rule.yaml from ops/prometheus/alerts.yml,
// so the alert rules have one source: edit alerts.yml, run this, commit both.
// `make deploy-check` fails while the two differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { parse, stringify } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const SOURCE = 'ops/prometheus/alerts.yml';
const TARGET = 'deploy/kubernetes/components/monitoring/prometheus-rule.yaml';

const { groups } = parse(readFileSync(join(ROOT, SOURCE), 'utf8'));
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'callsync', labels: { 'app.kubernetes.io/part-of': 'callsync' } },
  spec: { groups },
};
const header = `# Generated from ${SOURCE} by scripts/kubernetes/prometheus-rule.mjs: edit that file, then run\n# \`node scripts/kubernetes/prometheus-rule.mjs\`. \`make deploy-check\` fails while the two differ.\n`;
// Formatted as prettier would (CI checks the whole tree's format).
const options = { ...(await prettier.resolveConfig(join(ROOT, TARGET))), parser: 'yaml' };
writeFileSync(join(ROOT, TARGET), await prettier.format(header + stringify(rule, { lineWidth: 110 }), options));
console.log(`wrote ${TARGET} from ${SOURCE}`);
