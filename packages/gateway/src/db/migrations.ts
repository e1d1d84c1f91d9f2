// The gateway's schema, as numbered migrations applied once each, in order, under a lock.
import { CONVERSATION_MIGRATIONS } from '../conversations/schema.js';
import type { Database } from './Database.js';

/** One schema change. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  /** Run in order, one statement each. */
  readonly statements: readonly string[];
}

/** Every migration, oldest first. Never edit one that has shipped: add the next. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'api keys and usage',
    statements: [
      `CREATE TABLE api_keys (
        id text PRIMARY KEY,
        name text NOT NULL UNIQUE,
        key_hash text NOT NULL UNIQUE,
        permissions text[] NOT NULL,
        limits jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        rotated_at timestamptz,
        revoked_at timestamptz
      )`,
      `CREATE TABLE key_usage (
        principal text PRIMARY KEY,
        requests bigint NOT NULL DEFAULT 0,
        rejected bigint NOT NULL DEFAULT 0,
        prompt_tokens bigint NOT NULL DEFAULT 0,
        completion_tokens bigint NOT NULL DEFAULT 0,
        cost_usd double precision NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
    ],
  },
  ...CONVERSATION_MIGRATIONS,
];

/** An arbitrary constant: the advisory lock that serialises migrations of replicas starting together. */
const MIGRATION_LOCK = 7_204_118;

/** Applies the migrations not yet applied; returns the versions it applied. */
export async function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set(
      (await tx.query<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      for (const statement of m.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
