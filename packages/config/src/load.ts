import { z } from 'zod';
import { ConfigError, type Config } from './config';
import { resolveDuration } from './renamed';
import { baseVariables } from './schema';
import {
  ALL_SECTIONS,
  nameInUse,
  PROCESS_SECTIONS,
  SECTIONS,
  type BuildContext,
  type ProcessName,
  type SectionName,
} from './sections';

/** The Config of one process: the sections it reads (sections.ts), besides env, logLevel and warnings. */
export type ProcessConfig<P extends ProcessName> = Pick<
  Config,
  'env' | 'logLevel' | 'warnings' | (typeof PROCESS_SECTIONS)[P][number]
>;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** Parse the variables of these sections into a frozen object. Throws ConfigError naming each bad variable. */
function loadSections(sections: readonly SectionName[], source: Record<string, string | undefined>): object {
  // Treat empty strings as unset, as shells and .env files commonly produce them.
  const env = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const schema = z.object(Object.assign({ ...baseVariables }, ...sections.map((s) => SECTIONS[s].variables)));
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? 'environment');
        return env[name] === undefined && i.code === 'invalid_type'
          ? `${name} is required but not set`
          : `${name}: ${i.message}`;
      }),
    );
  }
  const values = parsed.data as Record<string, unknown>;
  // Sets: a duration two sections read (JOB_BACKOFF) is warned about once.
  const warnings = new Set<string>();
  const problems = new Set<string>();
  const report = { warning: (w: string) => warnings.add(w), problem: (p: string) => problems.add(p) };
  const context: BuildContext = {
    duration: (name) => resolveDuration(values, name, report),
    nameOf: (name) => nameInUse(values, name),
    problem: report.problem,
  };
  const built = Object.fromEntries(sections.map((s) => [s, SECTIONS[s].build(values, context)]));
  if (problems.size > 0) throw new ConfigError([...problems]);
  return deepFreeze({ env: values.NODE_ENV, logLevel: values.LOG_LEVEL, warnings: [...warnings], ...built });
}

/**
 * The configuration one process reads, parsed once from the environment: only its sections'
 * variables are required and checked. Throws ConfigError naming each bad variable.
 */
export function loadConfigFor<P extends ProcessName>(
  processName: P,
  source: Record<string, string | undefined> = process.env,
): ProcessConfig<P> {
  return loadSections(PROCESS_SECTIONS[processName], source) as ProcessConfig<P>;
}

/** Every section (the CLI, tests, deploy checks): what any callsync process could read. */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  return loadSections(ALL_SECTIONS, source) as Config;
}
