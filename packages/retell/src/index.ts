export { verifyRetellSignature, signRetellBody } from './signature';
export type { SignatureCheck, SignatureFailure, VerifyOptions } from './signature';
export { sampleCall, sampleWebhookBody } from './sample-calls';
export type { SampleCallOptions, SampleEvent } from './sample-calls';
