/*
 * @callsync/db: the database itself (the pool, error classification, migrations). Everything else
 * is exported by area, one entry each (package.json "exports"), so an import says which part of the
 * schema it touches: @callsync/db/events, /sessions, /forward, /reconcile, /tenants, /live, /ops,
 * /privacy; test and bench helpers are in @callsync/db/testing. The areas are in src/areas/.
 */
export { createDb, pingDatabase } from './database';
export type { Database, Db, DbOptions } from './database';
export { migrateToLatest } from './migrate';
export { backfillSessionFields, completeDataMigrations } from './data-migrations';
export { classifyDatabaseError, isDatabaseUnavailable, isJsonbEncodingError, isPermanentDatabaseError } from './errors';
export type { DatabaseErrorKind } from './errors';
