import { sql } from 'kysely';
import type { Db } from './database';
import type { ChatSession, ChatStatus } from './chat-session.table';
import { chatAnalysisColumns, recordset, setList } from './session-fields';

/** What the chat state machine writes back (jsonb columns as plain values). */
export interface ChatSessionValues {
  agent_id: string | null;
  agent_version: number | null;
  company_id: string | number | null;
  chat_type: string | null;
  chat_status: ChatStatus;
  started_at: Date | null;
  ended_at: Date | null;
  transcript: string | null;
  analysis: unknown;
  analyzed_at: Date | null;
  cost_cents: string | number | null;
  chat_cost: unknown;
  metadata: unknown;
  retell_llm_dynamic_variables: unknown;
  collected_dynamic_variables: unknown;
  lifecycle_rank: number;
  last_event_at: Date | null;
}

const CHAT_COLUMNS: Record<keyof ChatSessionValues, string> = {
  agent_id: 'text',
  agent_version: 'int',
  company_id: 'bigint',
  chat_type: 'text',
  chat_status: 'text',
  started_at: 'timestamptz',
  ended_at: 'timestamptz',
  transcript: 'text',
  analysis: 'jsonb',
  analyzed_at: 'timestamptz',
  cost_cents: 'numeric',
  chat_cost: 'jsonb',
  metadata: 'jsonb',
  retell_llm_dynamic_variables: 'jsonb',
  collected_dynamic_variables: 'jsonb',
  lifecycle_rank: 'smallint',
  last_event_at: 'timestamptz',
};

export async function findChatSession(db: Db, chatId: string): Promise<ChatSession | undefined> {
  return db.selectFrom('retell_chat_sessions').selectAll().where('chat_id', '=', chatId).executeTakeFirst();
}

/** lockCallSessions for chats: lock (creating) the sessions of many chats, in chat_id order. */
export async function lockChatSessions(db: Db, chatIds: readonly string[]): Promise<ChatSession[]> {
  const ids = [...new Set(chatIds)].sort();
  const { rows } = await sql<ChatSession>`
    insert into retell_chat_sessions (chat_id) select unnest(${ids}::text[]) order by 1
    on conflict (chat_id) do update set chat_id = excluded.chat_id
    returning *`.execute(db);
  return rows;
}

/** Write many chat sessions back in one statement; the analysis's queried fields are copied out of it. */
export async function updateChatSessions(
  db: Db,
  updates: readonly { chatId: string; values: ChatSessionValues }[],
): Promise<void> {
  if (updates.length === 0) return;
  const rows = updates.map((u) => ({ ...u.values, chat_id: u.chatId }));
  const assignments = Object.keys(CHAT_COLUMNS).map((c) => sql`${sql.ref(c)} = ${sql.ref(`v.${c}`)}`);
  await sql`
    update retell_chat_sessions s set
      ${sql.join(assignments)},
      ${setList(chatAnalysisColumns(sql`v.analysis`))},
      updated_at = now(),
      pii_pruned_at = case when v.transcript is distinct from s.transcript then null else s.pii_pruned_at end
    from ${recordset(rows, 'chat_id', CHAT_COLUMNS)}
    where s.chat_id = v.chat_id`.execute(db);
}
