import type { ColumnType, Generated, Selectable } from 'kysely';

/** One transfer event applied to a call (transfer_started, _bridged, _cancelled, _ended). */
export interface CallTransferEventTable {
  id: Generated<string>;
  call_id: string;
  webhook_event_id: string;
  event_type: string;
  /** The number (or SIP URI) transferred to. */
  destination: string | null;
  destination_extension: string | null;
  /** transfer_destination exactly as Retell sent it (an object `{"number", "extension"}`, or a string). */
  transfer_destination: ColumnType<unknown, string | null, string | null>;
  transfer_option: ColumnType<unknown, string | null, string | null>;
  turn_count: number;
  transcript_chars: number;
  received_at: Date;
  created_at: Generated<Date>;
}

export type CallTransferEvent = Selectable<CallTransferEventTable>;
