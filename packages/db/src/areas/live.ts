/** @callsync/db/live: During the call: the caller's context and custom function invocations. */
export {
  findCallForContext,
  findContextFacts,
  findInboundCallerFacts,
  findInboundFacts,
  recordAnsweredEvent,
  recordAnsweredEvents,
} from '../context.repository';
export type { AnsweredEvent, CallForContext, ContextFactsQuery } from '../context.repository';
export type { CallerHistory, ContextFacts, InboundFacts, InboundQuery, PendingCallEvent } from '../context.repository';
export type { FunctionCall, FunctionCallStatus } from '../function-call.table';
export {
  claimInvocation,
  countReplay,
  findFunctionCallsOf,
  findRecentInvocation,
  finishInvocation,
  finishInvocations,
  markPendingAnswered,
  startInvocation,
  takePendingResults,
} from '../function-call.repository';
export type { AnsweredResult, PendingResult } from '../function-call.repository';
