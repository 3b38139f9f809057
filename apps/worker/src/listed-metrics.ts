import type { ProviderApi } from '@callsync/domain';
import type { Metrics } from '@callsync/metrics';

/**
 * The provider's API as reconciliation uses it (Retell's client), counting what its list endpoints return
 * (callsync_reconcile_listed_total): "Retell has calls" for the no-webhooks alert, which fires when
 * it does while no delivery arrives.
 */
export function countListed(retell: ProviderApi, metrics: Metrics): ProviderApi {
  const counted: ProviderApi = {
    getCall: (id) => retell.getCall(id),
    ...(retell.getChat && { getChat: (id: string) => retell.getChat!(id) }),
  };
  if (retell.listCalls)
    counted.listCalls = async (sinceMs, untilMs, onPage) => {
      const calls = await retell.listCalls!(sinceMs, untilMs, onPage);
      metrics.retellListed.inc({ kind: 'calls' }, calls.length);
      return calls;
    };
  if (retell.listChats)
    counted.listChats = async (sinceMs, untilMs, onPage) => {
      const chats = await retell.listChats!(sinceMs, untilMs, onPage);
      metrics.retellListed.inc({ kind: 'chats' }, chats.length);
      return chats;
    };
  return counted;
}
