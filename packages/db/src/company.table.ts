import type { ColumnType, Generated, Selectable } from 'kysely';

/** A tenant: owns agents and phone numbers, and so their calls and chats. */
export interface CompanyTable {
  id: Generated<string>;
  name: string;
  time_zone: ColumnType<string, string | undefined, string>;
  /** What an agent may hear of a caller's earlier calls with the company. Default `summary`. */
  caller_memory: ColumnType<CallerMemory, CallerMemory | undefined, CallerMemory>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

/** `summary`: count, last time and last summary; `count`: the same without the summary; `off`: nothing. */
export type CallerMemory = 'summary' | 'count' | 'off';
export const CALLER_MEMORY: readonly CallerMemory[] = ['summary', 'count', 'off'];

export type Company = Selectable<CompanyTable>;

/** A Retell phone number (E.164), its bound agents and its company. */
export interface PhoneNumberTable {
  phone_number: string;
  nickname: string | null;
  inbound_agent_id: string | null;
  outbound_agent_id: string | null;
  /** Every agent bound to the number (inbound, outbound, SMS). */
  agent_ids: ColumnType<string[], string[] | undefined, string[]>;
  /** Static dynamic variables every inbound answer for this number carries (string values). */
  dynamic_variables: ColumnType<Record<string, string>, string | undefined, string>;
  company_id: ColumnType<string | null, number | string | null, number | string | null>;
  synced_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type PhoneNumber = Selectable<PhoneNumberTable>;

/** An agent override for a number in a weekly time window, in the company's time zone. */
export interface InboundScheduleTable {
  id: Generated<string>;
  phone_number: string;
  /** ISO weekdays, 1 = Monday ... 7 = Sunday. */
  weekdays: number[];
  /** 'HH:MM:SS'; the window is [starts_at, ends_at). */
  starts_at: string;
  ends_at: string;
  agent_id: string;
  agent_version: number | null;
}

export type InboundSchedule = Selectable<InboundScheduleTable>;

/** Callers a company declines on its inbound numbers. */
export interface BlockedNumberTable {
  company_id: ColumnType<string, number | string, number | string>;
  phone_number: string;
  created_at: Generated<Date>;
}
