import { type Kysely, sql } from 'kysely';

// Frozen in time: never edit after it has run anywhere; add a new migration instead.

/*
 * Keys from the environment (CALLSYNC_SECRET_KEY, docs/secret-key.md). caller_hash becomes an HMAC
 * under the secret key, made by the app: a function in the database could only make the old,
 * unkeyed form, whose salt sits next to the hashes, so it goes. The salt stays in callsync_settings
 * (it is the inner hash's, and alone it no longer lets anyone check a number). Rewrapping the
 * existing hashes and encrypting the destination secrets needs the key, which a migration never
 * sees: `make migrate` does it after the migrations (applySecretKey).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop function if exists callsync_caller_hash(text)`.execute(db);
  await sql`comment on column retell_call_sessions.caller_hash is
    'hmac:v1:<key id>:<hex>, the customer''s number keyed with CALLSYNC_SECRET_KEY (bare hex: from before the key, until make migrate rewraps it)'`.execute(
    db,
  );
  await sql`comment on column forward_destinations.secret is
    'enc:v1:<key id>:<iv>:<tag>:<ciphertext>, the signing secret encrypted with CALLSYNC_SECRET_KEY (whsec_...: from before the key, until make migrate encrypts it)'`.execute(
    db,
  );
  await sql`comment on column forward_destinations.previous_secret is 'as secret: encrypted with CALLSYNC_SECRET_KEY'`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`comment on column forward_destinations.previous_secret is null`.execute(db);
  await sql`comment on column forward_destinations.secret is null`.execute(db);
  await sql`comment on column retell_call_sessions.caller_hash is null`.execute(db);
  // Hashes already keyed stay keyed: the old function cannot make them match again.
  await sql`
    create function callsync_caller_hash(number text) returns text language sql stable as $$
      select case when number is null or lower(number) = 'anonymous' then null
        else encode(sha256(convert_to(s.caller_hash_salt || ':' || number, 'UTF8')), 'hex') end
      from callsync_settings s
    $$`.execute(db);
}
