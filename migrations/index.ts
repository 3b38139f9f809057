import type { Migration } from 'kysely';
import * as initialSchema from './2026_11_24_0001_initial_schema';
import * as reconciliation from './2026_11_24_0002_reconciliation';
import * as pendingSweep from './2026_11_24_0003_pending_sweep';
import * as replayAndRetention from './2026_11_24_0004_replay_and_retention';
import * as retentionPolicy from './2026_11_24_0005_retention_policy';
import * as callIdExpand from './2026_11_24_0006_call_id_expand';
import * as everyDelivery from './2026_11_24_0007_every_delivery';
import * as tenants from './2026_11_24_0008_tenants';
import * as discovery from './2026_11_24_0009_discovery';
import * as duringTheCall from './2026_11_24_0010_during_the_call';
import * as forwarding from './2026_11_24_0011_forwarding';
import * as console_ from './2026_11_24_0012_console';
import * as retellAsItIs from './2026_12_06_0013_retell_as_it_is';
import * as exampleSlots from './2026_12_06_0014_example_slots';
import * as companyPrivacy from './2026_12_06_0015_company_privacy';
import * as secretKey from './2026_12_06_0016_secret_key';
import * as erasure from './2026_12_06_0017_erasure';
import * as retentionEverywhere from './2026_12_06_0018_retention_everywhere';
import * as allowPrivate from './2026_12_06_0019_allow_private';
import * as agentVersions from './2026_12_06_0020_agent_versions';
import * as forwardFairness from './2026_12_06_0021_forward_fairness';
import * as auditRuns from './2026_12_06_0022_audit_runs';
import * as notifications from './2026_12_06_0023_notifications';
import * as turnBudget from './2026_12_06_0024_turn_budget';
import * as chatAnalysisChecks from './2026_12_06_0025_chat_analysis_checks';

/**
 * Every migration, by name. Names sort in the order they run. Append only: add the new file
 * here; never rename, reorder or edit one that has run.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_24_0001_initial_schema': initialSchema,
  '2026_11_24_0002_reconciliation': reconciliation,
  '2026_11_24_0003_pending_sweep': pendingSweep,
  '2026_11_24_0004_replay_and_retention': replayAndRetention,
  '2026_11_24_0005_retention_policy': retentionPolicy,
  '2026_11_24_0006_call_id_expand': callIdExpand,
  '2026_11_24_0007_every_delivery': everyDelivery,
  '2026_11_24_0008_tenants': tenants,
  '2026_11_24_0009_discovery': discovery,
  '2026_11_24_0010_during_the_call': duringTheCall,
  '2026_11_24_0011_forwarding': forwarding,
  '2026_11_24_0012_console': console_,
  '2026_12_06_0013_retell_as_it_is': retellAsItIs,
  '2026_12_06_0014_example_slots': exampleSlots,
  '2026_12_06_0015_company_privacy': companyPrivacy,
  '2026_12_06_0016_secret_key': secretKey,
  '2026_12_06_0017_erasure': erasure,
  '2026_12_06_0018_retention_everywhere': retentionEverywhere,
  '2026_12_06_0019_allow_private': allowPrivate,
  '2026_12_06_0020_agent_versions': agentVersions,
  '2026_12_06_0021_forward_fairness': forwardFairness,
  '2026_12_06_0022_audit_runs': auditRuns,
  '2026_12_06_0023_notifications': notifications,
  '2026_12_06_0024_turn_budget': turnBudget,
  '2026_12_06_0025_chat_analysis_checks': chatAnalysisChecks,
};
