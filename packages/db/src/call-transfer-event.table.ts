import type { ColumnType, Generated, Selectable } from 'kysely';

/** One transfer event applied to a call (transfer_started, _bridged, _cancelled, _ended). */
export interface CallTransferEventTable {
  id: Generated<string>;
  call_id: string;
  webhook_event_id: string;
  event_type: string;
  destination: string | null;
  transfer_option: ColumnType<unknown, string | null, string | null>;
  turn_count: number;
  transcript_chars: number;
  received_at: Date;
  created_at: Generated<Date>;
}

export type CallTransferEvent = Selectable<CallTransferEventTable>;
