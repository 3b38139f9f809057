import type { Db } from '@callsync/db';
import { createDestination, type DestinationInput } from '@callsync/domain';
import { ForwardReceiver, type ReceiverAnswer } from '@callsync/fake-receiver';
import { TEST_KEYS } from './keys';

/**
 * A destination on loopback and the team's receiver behind it, which verifies with the destination's
 * secret. The caller closes the receiver.
 */
export async function receivingDestination(
  db: Db,
  input: Omit<DestinationInput, 'url'>,
  respond?: (m: ForwardReceiver['received'][number]) => ReceiverAnswer,
): Promise<{ id: string; receiver: ForwardReceiver; secret: string }> {
  const receiver = await new ForwardReceiver({ secrets: [], respond }).start();
  const { destination, secret } = await createDestination(db, TEST_KEYS, {
    ...input,
    url: receiver.url,
    allowPrivate: true,
  });
  receiver.secrets = [secret];
  return { id: destination.id, receiver, secret };
}
