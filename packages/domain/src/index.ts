export { PermanentEventError, RowBusyError } from './errors';
export {
  ANALYSIS_EVENTS,
  CALL_EVENTS,
  CHAT_EVENTS,
  LIFECYCLE_EVENTS,
  SNAPSHOT_EVENTS,
  TRANSFER_EVENTS,
  WEBHOOK_EVENTS,
  isChatEvent,
  isLifecycleEvent,
  isSnapshotEvent,
  isTransferEvent,
} from './events/event-types';
export type { ChatEvent, LifecycleEvent, TransferEvent } from './events/event-types';
export { isCallFinished, isChatFinished } from './events/provider';
export type {
  CallLookupResult,
  CallStatus,
  ChatLookupResult,
  ProviderAgent,
  ProviderApi,
  ProviderCall,
  ProviderChat,
  ProviderNumber,
  TenantSource,
} from './events/provider';
export { parseEnvelope } from './events/envelope';
export type { Envelope, EnvelopeResult, Subject } from './events/envelope';
export { identifyDelivery, stableJson, transferFacts } from './events/delivery-identity';
export type { DeliveryIdentity } from './events/delivery-identity';
export { parseCall } from './events/call';
export type { RetellCall } from './events/call';
export { parseChat } from './events/chat';
export type { RetellChat } from './events/chat';
export { mergeSession, patchFromEvent, emptySession, LIFECYCLE_RANK } from './state/call-state';
export type { SessionState, SessionPatch } from './state/call-state';
export { mergeChat, chatPatchFromEvent, CHAT_RANK } from './state/chat-state';
export type { ChatState, ChatPatch } from './state/chat-state';
export { foldTransfers, transferEventOf } from './state/transfers';
export type { CallTransfer, TransferEventFact } from './state/transfers';
export { defaultHandlers } from './handlers';
export type { EventHandler, HandlerRegistry, StoredEvent } from './handlers';
export { processWebhookEvent, processWebhookEventsBatch } from './process-event';
export { NOTHING_NEW } from './handlers/nothing-new';
export type { ProcessOutcome } from './process-event';
export { runReconcilePass } from './reconcile/reconcile-pass';
export type {
  CallOutcome,
  CallReport,
  ReconcileDeps,
  ReconcileOptions,
  ReconcileSummary,
} from './reconcile/reconcile-pass';
export { invalidateTenantCache, resolveCompany } from './handlers/tenant-cache';
export { afterMappingChange, applyTenantPlan } from './tenants/apply-tenants';
export type { ApplyResult, PlannedCompany, PlannedNumber, TenantPlan } from './tenants/apply-tenants';
export { syncTenantsFromRetell } from './tenants/sync-tenants';
export type { SyncSummary } from './tenants/sync-tenants';
export { discoverMissed, discoveredCallEvents, discoveredChatEvents } from './reconcile/discover';
export type { DiscoveryFound, DiscoverySummary, DiscoverOptions } from './reconcile/discover';
export { prefetchCallContext, resolveCallContext } from './context/call-context';
export type { CallContext, ContextSources } from './context/call-context';
export { ContextCache } from './context/prefetch';
export type { ContextCacheOptions, PrefetchedCaller } from './context/prefetch';
export { TenantDirectory } from './tenants/directory';
export { toolCallIdOf } from './functions/tool-call-id';
export { Slots } from './functions/slots';
export { defineFunction, functionRegistry } from './functions/function';
export type { CallsyncFunction, FunctionContext, FunctionRegistry } from './functions/function';
export {
  BUILTIN_FUNCTIONS,
  describeHistory,
  getCallContext,
  getCallerHistory,
  getPendingResult,
} from './functions/builtins';
export { FunctionInvoker, invocationKey, MAX_RESULT_CHARS, RETRY_WINDOW_MS } from './functions/invoke';
export type { FunctionAnswer, FunctionEvents, FunctionRequest } from './functions/invoke';
export { AFTER_ANSWER_GATHER_MS, ResultRecords } from './functions/result-records';
export { answerInbound, localTime, pickScheduledAgent } from './inbound/answer-inbound';
export type {
  InboundAnswer,
  InboundOptions,
  InboundDecision,
  InboundRejection,
  InboundRequest,
  InboundRouting,
} from './inbound/answer-inbound';
export {
  createDestination,
  rotateSecret,
  DestinationError,
  FORWARDABLE_EVENTS,
  SECRET_OVERLAP_HOURS,
} from './forwarding/destinations';
export type { DestinationInput } from './forwarding/destinations';
export { checkDestinationUrl, DestinationUrlError, isLinkLocal } from './forwarding/destination-url';
export { classifyAddress } from './forwarding/reserved-addresses';
export type { AddressClass } from './forwarding/reserved-addresses';
export { maskUrlCredentials } from './forwarding/mask-url';
export { newSigningSecret, secretHint, signDelivery } from './forwarding/signing';
export type { SignedHeaders } from './forwarding/signing';
export { parseRetryAfter, sendDelivery, RESPONSE_EXCERPT_BYTES } from './forwarding/http-send';
export type { SendRequest, SendResult } from './forwarding/http-send';
export {
  DEFAULT_RETRY_SCHEDULE_MS,
  forwardDelivery,
  judgeAnswer,
  SEND_LEASE_MS,
  sendTestMessage,
} from './forwarding/forward-delivery';
export type { AttemptReport, ForwardOptions, ForwardOutcome, JudgeOptions } from './forwarding/forward-delivery';
export {
  breakerCooldownMs,
  decideBreaker,
  DEFAULT_BREAKER_COOLDOWN_MS,
  MAX_BREAKER_COOLDOWN_MS,
} from './forwarding/breaker';
export type { AttemptForBreaker } from './forwarding/breaker';
export { createApiToken, tokenSha256 } from './tokens/api-token';
export { forget } from './privacy/forget';
export type { CallDeleter, ForgetReport, ForgetTarget } from './privacy/forget';
export { isEncrypted, isLegacyCallerHash, legacyCallerHash, SecretKeyError, SecretKeyring } from './privacy/secret-key';
export type { SecretKeyMaterial } from './privacy/secret-key';
export { callerHasher, callerHashesOf } from './privacy/caller-hash';
export type { CallerHasher } from './privacy/caller-hash';
export { applySecretKey } from './privacy/apply-secret-key';
export type { SecretKeyMigration } from './privacy/apply-secret-key';
export { compareVersions, MIN_SAMPLE, twoProportionZ, Z_95 } from './agents/compare-versions';
export type { Proportion, VersionFlag, VersionSample } from './agents/compare-versions';
export { agentVersionReports } from './agents/version-report';
export type { AgentReport, VersionReport } from './agents/version-report';
export { defaultAuditGraceMinutes, runAudit } from './audit/run-audit';
export type { AuditGap, AuditOptions, AuditReport, CompanyAudit } from './audit/run-audit';
export { classify as classifyAuditItem } from './audit/classify';
export type { HeldState, ListedItem, Verdict as AuditVerdict } from './audit/classify';
export {
  ALERT_CONDITIONS,
  auditSummaryLine,
  composeDailySummary,
  deliverAlertMessages,
  emailSender,
  evaluateConditions,
  redactUrl,
  runAlertCheck,
  webhookSender,
} from './notify';
export type { AlertCheckResult, AlertCondition, AlertSender, NotifierOptions, OutgoingMessage } from './notify';
export { findReplayCandidates, replayEvents, splitPruned } from './replay/replay-events';
export type {
  EnqueueReplayed,
  ReplayCandidates,
  ReplayJobCounts,
  ReplayResult,
  ReplayRow,
} from './replay/replay-events';
