import { ConfigError, loadConfig, type Config } from '@callsync/config';
// The schema is the list of variables callsync reads; @callsync/config exports only the parsed result.
import { envSchema } from '../../packages/config/src/schema';
import { describe, ofKind, type K8sObject, type Workload } from './manifests';

/*
 * A container's environment as Kubernetes will assemble it (ConfigMaps through envFrom, then env),
 * checked against the contract in packages/config: every name known, secrets only from Secrets, and
 * the whole of it accepted by the same loadConfig the process runs at start-up.
 */

export const KNOWN_VARIABLES: ReadonlySet<string> = new Set(Object.keys(envSchema.shape));

/** Variables that carry credentials: they come from a Secret, never from the manifests. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set([
  'DATABASE_URL',
  'REDIS_URL',
  'RETELL_API_KEY',
  'RETELL_WEBHOOK_KEYS',
  'CALLSYNC_API_TOKENS',
  'CALLSYNC_SECRET_KEY',
  'CALLSYNC_SECRET_KEY_PREVIOUS',
  'DASHBOARD_PASSWORD',
]);

/**
 * What a secret reference stands for when the check starts a process: addresses nothing listens on
 * (port 1 refuses at once), so the process starts without reaching anything.
 */
const SECRET_STAND_INS: Record<string, string> = {
  DATABASE_URL: 'postgres://callsync:deploy-check@127.0.0.1:1/callsync',
  REDIS_URL: 'redis://127.0.0.1:1',
  REDIS_CLUSTER_NODES: '127.0.0.1:1',
  RETELL_API_KEY: 'key_deploy_check',
  RETELL_WEBHOOK_KEYS: 'key_deploy_check',
  CALLSYNC_API_TOKENS: 'deploy-check-token',
  CALLSYNC_SECRET_KEY: '0'.repeat(64),
  DASHBOARD_USER: 'admin',
  DASHBOARD_PASSWORD: 'deploy-check',
};

export interface SecretRef {
  secret: string;
  key: string;
  optional: boolean;
}

export interface ResolvedEnvironment {
  /** Plain values, by variable, and where each was set. */
  values: Map<string, { value: string; from: string }>;
  secrets: Map<string, SecretRef>;
  problems: string[];
}

/** The callsync container's environment, resolved against the rendered ConfigMaps. */
export function resolveEnvironment(workload: Workload, objects: readonly K8sObject[]): ResolvedEnvironment {
  const who = describe(workload.object);
  const values = new Map<string, { value: string; from: string }>();
  const secrets = new Map<string, SecretRef>();
  const problems: string[] = [];
  const configMaps = new Map(ofKind(objects, 'ConfigMap').map((c) => [c.metadata.name, c]));
  for (const source of workload.container.envFrom ?? []) {
    if (source.secretRef) {
      problems.push(
        `${who}: envFrom Secret ${source.secretRef.name} hides which variables it sets; list each with secretKeyRef`,
      );
    }
    if (source.configMapRef) {
      const map = configMaps.get(source.configMapRef.name ?? '');
      if (!map) problems.push(`${who}: envFrom names ConfigMap ${source.configMapRef.name}, which is not rendered`);
      for (const [name, value] of Object.entries(map?.data ?? {})) {
        values.set(name, { value, from: `ConfigMap ${map!.metadata.name}` });
        secrets.delete(name);
      }
    }
  }
  for (const v of workload.container.env ?? []) {
    values.delete(v.name);
    secrets.delete(v.name);
    const secret = v.valueFrom?.secretKeyRef;
    const fromMap = v.valueFrom?.configMapKeyRef;
    if (secret) secrets.set(v.name, { secret: secret.name ?? '', key: secret.key, optional: !!secret.optional });
    else if (fromMap) {
      const value = configMaps.get(fromMap.name ?? '')?.data?.[fromMap.key];
      if (value === undefined)
        problems.push(`${who}: ${v.name} reads ConfigMap ${fromMap.name} key ${fromMap.key}, not rendered`);
      else values.set(v.name, { value, from: `ConfigMap ${fromMap.name}` });
    } else values.set(v.name, { value: v.value ?? '', from: 'the manifest' });
  }
  return { values, secrets, problems };
}

/** The environment a process of this workload starts with, secrets replaced by stand-ins. */
export function startEnvironment(env: ResolvedEnvironment): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, { value }] of env.values) out[name] = value;
  for (const [name, ref] of env.secrets) if (!ref.optional) out[name] = SECRET_STAND_INS[name] ?? 'deploy-check';
  return out;
}

/** The Config the process would run with, or the ConfigError's problems. */
export function workloadConfig(env: ResolvedEnvironment): { config?: Config; problems: string[] } {
  try {
    return { config: loadConfig(startEnvironment(env)), problems: [] };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: [...err.problems] };
    throw err;
  }
}

/** Unknown variables, secrets in plain text, Secrets in the manifests, and configurations that would not start. */
export function checkEnvironment(objects: readonly K8sObject[], all: readonly Workload[]): string[] {
  const problems = ofKind(objects, 'Secret').map(
    (s) => `${describe(s)} is in the manifests: create Secrets in the cluster, never commit them (docs/kubernetes.md)`,
  );
  for (const w of all) {
    const who = describe(w.object);
    const env = resolveEnvironment(w, objects);
    problems.push(...env.problems);
    for (const [name, { from }] of env.values) {
      if (!KNOWN_VARIABLES.has(name)) {
        problems.push(
          `${who}: unknown environment variable ${name} (from ${from}); packages/config knows no such setting`,
        );
      } else if (SECRET_VARIABLES.has(name)) {
        problems.push(
          `${who}: ${name} is set in plain text (in ${from}); reference it from a Secret with secretKeyRef`,
        );
      }
    }
    for (const name of env.secrets.keys()) {
      if (!KNOWN_VARIABLES.has(name)) {
        problems.push(
          `${who}: unknown environment variable ${name} (from a Secret); packages/config knows no such setting`,
        );
      }
    }
    for (const p of workloadConfig(env).problems) problems.push(`${who}: the process would not start: ${p}`);
  }
  return problems;
}

/** Every Secret and key the manifests reference: what a team creates before the first deploy. */
export function secretsToCreate(objects: readonly K8sObject[], all: readonly Workload[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const w of all) {
    for (const ref of resolveEnvironment(w, objects).secrets.values()) {
      const keys = out.get(ref.secret) ?? new Set<string>();
      keys.add(ref.optional ? `${ref.key} (optional)` : ref.key);
      out.set(ref.secret, keys);
    }
  }
  return out;
}
