import type { ColumnType, Generated, Selectable } from 'kysely';

export interface AgentTable {
  agent_id: string;
  /** The tenant that owns calls to this agent. */
  company_id: ColumnType<string, number | string, number | string>;
  name: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type Agent = Selectable<AgentTable>;
