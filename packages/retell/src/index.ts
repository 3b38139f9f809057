export { verifyRetellSignature, signRetellBody } from './signature';
export type { SignatureCheck, SignatureFailure, VerifyOptions } from './signature';
export { sampleCall, sampleWebhookBody } from './sample-calls';
export type { CallObject, SampleCallOptions, SampleEvent } from './sample-calls';
export { apiCallSchema, isFinished } from './api-call';
export type { ApiCall, CallLookup, GetCallResult, RetellCallStatus } from './api-call';
export { RetellApiClient, RetellApiError, retryAfterMs } from './api-client';
export type { RetellApiClientOptions } from './api-client';
