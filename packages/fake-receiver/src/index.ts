export { ForwardReceiver } from './forward-receiver';
export type { ForwardReceiverOptions, ReceivedMessage, ReceiverAnswer } from './forward-receiver';
