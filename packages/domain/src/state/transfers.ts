/*
 * A call's transfers, rebuilt from every transfer event applied to it (retell_call_transfer_events).
 * Retell's transfer events carry no transfer id, so they are put in conversation order (transcript
 * turns and characters when the event was sent; the steps of one transfer happen at the same point
 * or later) and grouped: transfer_started opens a transfer, bridged/cancelled settle the latest open
 * one to the same destination, transfer_ended closes the latest one not yet ended. Rebuilding from
 * the whole set, not patching, is what makes every arrival order give the same list.
 */

import type { CallTransferEvent } from '@callsync/db/sessions';
import { transferFacts } from '../events/delivery-identity';

export type TransferStep = 'transfer_started' | 'transfer_bridged' | 'transfer_cancelled' | 'transfer_ended';

/** What folding needs of a stored transfer event (retell_call_transfer_events). */
export type TransferEventFact = Omit<CallTransferEvent, 'call_id' | 'webhook_event_id' | 'created_at'>;

export interface CallTransfer {
  /** The number (or SIP URI) transferred to. */
  destination: string | null;
  extension: string | null;
  /** transfer_destination as Retell sent it (`{"number", "extension", ...}`). */
  destination_sent: unknown;
  /** transfer_option as Retell sent it (camelCase keys). */
  option: unknown;
  /** cancelled (failed or called off), bridged (connected), ended (only its end was seen) or started (no outcome yet). */
  outcome: 'started' | 'bridged' | 'cancelled' | 'ended';
  started_at: string | null;
  bridged_at: string | null;
  cancelled_at: string | null;
  ended_at: string | null;
}

const STEP_ORDER: Record<string, number> = {
  transfer_started: 0,
  transfer_bridged: 1,
  transfer_cancelled: 1,
  transfer_ended: 2,
};

function compare(a: TransferEventFact, b: TransferEventFact): number {
  return (
    a.turn_count - b.turn_count ||
    a.transcript_chars - b.transcript_chars ||
    (STEP_ORDER[a.event_type] ?? 3) - (STEP_ORDER[b.event_type] ?? 3) ||
    a.received_at.getTime() - b.received_at.getTime() ||
    Number(a.id) - Number(b.id)
  );
}

const sameDestination = (t: CallTransfer, e: TransferEventFact) =>
  t.destination === null ||
  e.destination === null ||
  (t.destination === e.destination && (t.extension ?? null) === (e.destination_extension ?? null));

function outcomeOf(t: CallTransfer): CallTransfer['outcome'] {
  if (t.cancelled_at) return 'cancelled';
  if (t.bridged_at) return 'bridged';
  if (t.ended_at) return 'ended';
  return 'started';
}

/** The transfers of one call, in order. Pure. */
export function foldTransfers(events: readonly TransferEventFact[]): CallTransfer[] {
  const transfers: CallTransfer[] = [];
  const open = (e: TransferEventFact): CallTransfer => {
    const t: CallTransfer = {
      destination: e.destination,
      extension: e.destination_extension ?? null,
      destination_sent: e.transfer_destination ?? null,
      option: e.transfer_option ?? null,
      outcome: 'started',
      started_at: null,
      bridged_at: null,
      cancelled_at: null,
      ended_at: null,
    };
    transfers.push(t);
    return t;
  };
  const latest = (match: (t: CallTransfer) => boolean) => [...transfers].reverse().find(match);
  for (const e of [...events].sort(compare)) {
    const at = e.received_at.toISOString();
    let t: CallTransfer;
    if (e.event_type === 'transfer_started') {
      t = open(e);
      t.started_at = at;
    } else if (e.event_type === 'transfer_bridged' || e.event_type === 'transfer_cancelled') {
      t = latest((x) => !x.bridged_at && !x.cancelled_at && !x.ended_at && sameDestination(x, e)) ?? open(e);
      if (e.event_type === 'transfer_bridged') t.bridged_at = at;
      else t.cancelled_at = at;
    } else {
      t = latest((x) => !x.ended_at && !x.cancelled_at) ?? latest((x) => !x.ended_at) ?? open(e);
      t.ended_at = at;
    }
    if (t.destination === null && e.destination !== null) {
      t.destination = e.destination;
      t.extension = e.destination_extension ?? null;
    }
    t.destination_sent ??= e.transfer_destination ?? null;
    t.option ??= e.transfer_option ?? null;
    t.outcome = outcomeOf(t);
  }
  return transfers;
}

/** A transfer event's facts from its stored body: what retell_call_transfer_events keeps of it. */
export function transferEventOf(
  eventType: string,
  payload: unknown,
): Pick<
  TransferEventFact,
  | 'event_type'
  | 'destination'
  | 'destination_extension'
  | 'transfer_destination'
  | 'transfer_option'
  | 'turn_count'
  | 'transcript_chars'
> {
  const t = transferFacts(payload);
  return {
    event_type: eventType,
    destination: t.destination?.number ?? null,
    destination_extension: t.destination?.extension ?? null,
    transfer_destination: t.destinationSent,
    transfer_option: t.option,
    turn_count: t.turns,
    transcript_chars: t.chars,
  };
}
