import type { Kysely } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Forwarding destinations may reach private and reserved addresses, and use plain http, only when
 * added with --allow-private (issue 27). Existing destinations get false: one that pointed at such an
 * address is refused at its next send until it is added again with the flag.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('forward_destinations')
    .addColumn('allow_private', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('forward_destinations').dropColumn('allow_private').execute();
}
