import { sql, type Updateable } from 'kysely';
import type { Db } from './database';
import type { CallSession, CallSessionTable } from './call-session.table';

export type CallSessionValues = Omit<
  Updateable<CallSessionTable>,
  'id' | 'call_id' | 'created_at' | 'updated_at' | 'caller_anonymous'
>;

/**
 * Make sure the session row exists and lock it. A new row is created with `initial`; an existing
 * one is returned unchanged (the no-op update takes the row lock). `inserted` says which.
 */
export async function upsertAndLockCallSession(
  db: Db,
  callId: string,
  initial: CallSessionValues,
): Promise<{ session: CallSession; inserted: boolean }> {
  const row = await db
    .insertInto('retell_call_sessions')
    .values({ ...initial, call_id: callId })
    .onConflict((oc) => oc.column('call_id').doUpdateSet((eb) => ({ call_id: eb.ref('excluded.call_id') })))
    .returningAll()
    .returning(sql<boolean>`xmax = 0`.as('inserted'))
    .executeTakeFirstOrThrow();
  const { inserted, ...session } = row;
  return { session, inserted };
}

export async function updateCallSession(db: Db, callId: string, values: CallSessionValues): Promise<void> {
  await db
    .updateTable('retell_call_sessions')
    .set({ ...values, updated_at: sql<Date>`now()` })
    .where('call_id', '=', callId)
    .execute();
}

export async function findCallSession(db: Db, callId: string): Promise<CallSession | undefined> {
  return db.selectFrom('retell_call_sessions').selectAll().where('call_id', '=', callId).executeTakeFirst();
}
