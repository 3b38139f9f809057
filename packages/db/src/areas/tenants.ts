/** @callsync/db/tenants: Companies, numbers, agents, schedules, blocklists and API tokens, and the tenants channel. */
export type { Agent } from '../agent.table';
export type { CallerMemory, Company, PhoneNumber } from '../company.table';
export { CALLER_MEMORY } from '../company.table';
export { findAgentCompany, findCompanyIdForAgent, findCompanyIdForNumber } from '../agent.repository';
export {
  E164,
  TENANTS_CHANNEL,
  addCompany,
  backfillSessionCompanies,
  findCompany,
  inheritNumberCompanies,
  listTenants,
  mapAgent,
  mapNumber,
  notifyTenantsChanged,
  updateCompanyCallerMemory,
  updateCompanyTimeZone,
  upsertSyncedAgents,
  findNumberRouting,
  setNumberRouting,
  findBlockedNumbers,
  setBlockedNumbers,
  upsertSyncedNumbers,
} from '../tenant.repository';
export type { NumberRouting, ScheduleWindow, SyncedAgent, SyncedNumber, Tenants } from '../tenant.repository';
export {
  CALLS_CHANNEL,
  ERASURES_CHANNEL,
  listenForTenantChanges,
  notifyCallsStarted,
  notifyErasure,
} from '../tenant-listener';
export type { StartedCall, TenantListener } from '../tenant-listener';
export { loadRoutingSnapshot } from '../routing.repository';
export type { RoutingSnapshot } from '../routing.repository';
export type { InboundSchedule } from '../company.table';
export type { ApiToken } from '../api-token.table';
export { addApiToken, listApiTokens, revokeApiToken, useApiToken } from '../api-token.repository';
export type { ApiTokenListing } from '../api-token.repository';
