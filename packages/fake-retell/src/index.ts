export { FakeRetell } from './fake-retell';
export type { FakeBehaviour, FakeLlm, FakeRetellOptions, RecordedRequest } from './fake-retell';
export { ForwardReceiver } from './forward-receiver';
export type { ForwardReceiverOptions, ReceivedMessage, ReceiverAnswer } from './forward-receiver';
