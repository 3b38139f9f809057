/*
 * A call's transfers, rebuilt from every transfer event applied to it (retell_call_transfer_events).
 * Retell's transfer events carry no transfer id, so they are put in conversation order (transcript
 * turns and characters when the event was sent; the steps of one transfer happen at the same point
 * or later) and grouped: transfer_started opens a transfer, bridged/cancelled settle the latest open
 * one to the same destination, transfer_ended closes the latest one not yet ended. Rebuilding from
 * the whole set, not patching, is what makes every arrival order give the same list.
 */

export type TransferStep = 'transfer_started' | 'transfer_bridged' | 'transfer_cancelled' | 'transfer_ended';

export interface TransferEventFact {
  id: string;
  event_type: string;
  destination: string | null;
  transfer_option: unknown;
  turn_count: number;
  transcript_chars: number;
  received_at: Date;
}

export interface CallTransfer {
  destination: string | null;
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

const sameDestination = (t: CallTransfer, destination: string | null) =>
  t.destination === null || destination === null || t.destination === destination;

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
      t =
        latest((x) => !x.bridged_at && !x.cancelled_at && !x.ended_at && sameDestination(x, e.destination)) ?? open(e);
      if (e.event_type === 'transfer_bridged') t.bridged_at = at;
      else t.cancelled_at = at;
    } else {
      t = latest((x) => !x.ended_at && !x.cancelled_at) ?? latest((x) => !x.ended_at) ?? open(e);
      t.ended_at = at;
    }
    t.destination ??= e.destination;
    t.option ??= e.transfer_option ?? null;
    t.outcome = outcomeOf(t);
  }
  return transfers;
}
