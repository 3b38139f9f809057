import type { ColumnType, Generated, Selectable } from 'kysely';

/** A tenant: owns agents and phone numbers, and so their calls and chats. */
export interface CompanyTable {
  id: Generated<string>;
  name: string;
  time_zone: ColumnType<string, string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type Company = Selectable<CompanyTable>;

/** A Retell phone number (E.164), its bound agents and its company. */
export interface PhoneNumberTable {
  phone_number: string;
  nickname: string | null;
  inbound_agent_id: string | null;
  outbound_agent_id: string | null;
  /** Every agent bound to the number (inbound, outbound, SMS). */
  agent_ids: ColumnType<string[], string[] | undefined, string[]>;
  company_id: ColumnType<string | null, number | string | null, number | string | null>;
  synced_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type PhoneNumber = Selectable<PhoneNumberTable>;
