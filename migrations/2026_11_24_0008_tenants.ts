import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Tenants (issue 12): companies own agents and phone numbers; a call's company comes from its agent,
 * else from its number (to_number inbound, from_number outbound).
 * - companies: the tenants. Company ids already used in retell_agents (the seed's "Company ID: 1")
 *   become companies named "Company <id>", so the foreign key holds and nothing is lost.
 * - retell_agents: synced agents may not be mapped yet (company_id null); company_source says whether
 *   the company was set for the agent itself or inherited from a number the agent is bound to.
 * - retell_phone_numbers: E.164 numbers with their bound agents and company (sync fills the agents).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('companies')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull().unique())
    .addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('companies_name_check', sql`length(trim(name)) > 0`)
    .execute();
  await sql`
    insert into companies (id, name)
    select distinct company_id, 'Company ' || company_id from retell_agents where company_id is not null
    on conflict do nothing`.execute(db);
  await sql`select setval(pg_get_serial_sequence('companies', 'id'), greatest((select max(id) from companies), 1), (select count(*) > 0 from companies))`.execute(
    db,
  );

  await sql`alter table retell_agents alter column company_id drop not null`.execute(db);
  await db.schema
    .alterTable('retell_agents')
    .addColumn('agent_version', 'integer')
    // voice (call agents) or chat (chat agents)
    .addColumn('agent_type', 'text')
    // agent: mapped for itself; number: inherited from a number it is bound to (a sync or a number
    // mapping may change it; never one mapped for itself).
    .addColumn('company_source', 'text')
    .addColumn('synced_at', 'timestamptz')
    .execute();
  await sql`alter table retell_agents add constraint retell_agents_company_source_check check (company_source in ('agent', 'number'))`.execute(
    db,
  );
  await sql`alter table retell_agents add constraint retell_agents_agent_type_check check (agent_type in ('voice', 'chat'))`.execute(
    db,
  );
  await sql`update retell_agents set company_source = 'agent' where company_id is not null`.execute(db);
  await sql`alter table retell_agents add constraint retell_agents_company_fk foreign key (company_id) references companies (id)`.execute(
    db,
  );
  await db.schema.createIndex('retell_agents_company_idx').on('retell_agents').column('company_id').execute();

  await db.schema
    .createTable('retell_phone_numbers')
    .addColumn('phone_number', 'text', (c) => c.primaryKey())
    .addColumn('nickname', 'text')
    .addColumn('inbound_agent_id', 'text')
    .addColumn('outbound_agent_id', 'text')
    // Every agent bound to the number (inbound, outbound, SMS; Retell allows weighted lists): they
    // follow the number's company unless mapped for themselves.
    .addColumn('agent_ids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('company_id', 'bigint', (c) => c.references('companies.id'))
    .addColumn('synced_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('retell_phone_numbers_e164_check', sql`phone_number ~ '^\\+[1-9][0-9]{1,14}$'`)
    .execute();
  await db.schema
    .createIndex('retell_phone_numbers_company_idx')
    .on('retell_phone_numbers')
    .column('company_id')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('retell_phone_numbers').execute();
  await sql`alter table retell_agents drop constraint retell_agents_company_fk`.execute(db);
  await db.schema.dropIndex('retell_agents_company_idx').execute();
  await sql`delete from retell_agents where company_id is null`.execute(db);
  await db.schema
    .alterTable('retell_agents')
    .dropColumn('agent_version')
    .dropColumn('agent_type')
    .dropColumn('company_source')
    .dropColumn('synced_at')
    .execute();
  await sql`alter table retell_agents alter column company_id set not null`.execute(db);
  await db.schema.dropTable('companies').execute();
}
