import type { ColumnType, Generated, Selectable } from 'kysely';

export interface AgentTable {
  agent_id: string;
  /** The tenant that owns calls to this agent; null for a synced agent nobody mapped yet. */
  company_id: ColumnType<string | null, number | string | null, number | string | null>;
  name: string | null;
  agent_version: number | null;
  agent_type: 'voice' | 'chat' | null;
  /** agent: mapped for itself; number: inherited from a number it is bound to. */
  company_source: 'agent' | 'number' | null;
  synced_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type Agent = Selectable<AgentTable>;
