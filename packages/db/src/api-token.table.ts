import type { Generated, Selectable } from 'kysely';

/** A context API token: only its SHA-256 is stored; company_id null is an operator token (every company). */
export interface ApiTokenTable {
  id: Generated<string>;
  token_sha256: string;
  company_id: string | null;
  description: string | null;
  created_at: Generated<Date>;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export type ApiToken = Selectable<ApiTokenTable>;
