export { checkSignatureHeader, verifyRetellSignature, signRetellBody } from './signature';
export type { SignatureCheck, SignatureFailure, SignatureHeaderCheck, VerifyOptions } from './signature';
export {
  sampleCall,
  sampleChat,
  sampleChatBody,
  sampleTranscript,
  sampleTranscriptUpdateBody,
  sampleTransferBody,
  sampleWebhookBody,
} from './sample-calls';
export type {
  CallObject,
  SampleCallOptions,
  SampleChatOptions,
  SampleEvent,
  SampleTransferOptions,
} from './sample-calls';
export { apiCallSchema, apiChatSchema } from './api-call';
export type { ApiCall, ApiChat, GetCallResult, GetChatResult } from './api-call';
export { apiAgentSchema, apiPhoneNumberSchema } from './api-tenants';
export type { ApiAgent, ApiPhoneNumber } from './api-tenants';
export { RetellApiClient, RetellApiError, retryAfterMs } from './api-client';
export type { RetellApiClientOptions } from './api-client';
export type {
  CallWebhookBody,
  ChatTranscriptUpdatedBody,
  ChatWebhookBody,
  Documented,
  FunctionRequestBody,
  InboundAnswerBody,
  InboundCallRequest,
  InboundParty,
  InboundRejection,
  InboundRequest,
  InboundRouting,
  InboundSmsRequest,
  LegacyCallFields,
  RetellCallListItem,
  RetellCallObject,
  RetellChatListItem,
  RetellChatObject,
  RetellPhoneCall,
  RetellTranscriptEntry,
  RetellWebCall,
  RetellWebhookBody,
  TranscriptUpdatedBody,
  TransferDestinationSent,
  TransferOptionSent,
  TransferWebhookBody,
} from './shapes';
