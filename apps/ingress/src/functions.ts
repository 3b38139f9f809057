import { BUILTIN_FUNCTIONS, functionRegistry, type CallsyncFunction, type FunctionRegistry } from '@callsync/domain';
import { checkAvailability } from '@callsync/examples';

/**
 * The team's own custom functions, served at /api/retell/functions/<name> beside the built-in
 * get_call_context and get_caller_history. Add yours here (see examples/functions/check-availability.ts),
 * with a migration for its tables, so it answers on a freshly migrated database (check_availability's
 * table comes from migrations/2026_12_06_0014_example_slots.ts). Registering is also what puts code in
 * the production image: examples/ goes into it only while this file imports from `@callsync/examples`
 * (scripts/image-examples.sh, run by the Dockerfile); drop check_availability here (and the dependency
 * in apps/ingress/package.json) and the image leaves examples/ out.
 */
export const TEAM_FUNCTIONS: readonly CallsyncFunction<unknown>[] = [checkAvailability];

export function ingressFunctions(): FunctionRegistry {
  return functionRegistry([...BUILTIN_FUNCTIONS, ...TEAM_FUNCTIONS]);
}
