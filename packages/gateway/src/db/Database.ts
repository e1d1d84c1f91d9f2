// The gateway's data store: PostgreSQL through `pg`, or the embedded PGlite, behind one small interface.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** Runs parameterised SQL (`$1`, `$2`...). Values are never spliced into the text. */
export interface SqlRunner {
  query<R extends object>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** A database connection (or pool) the gateway owns. */
export interface Database extends SqlRunner {
  /** `'pglite'` or `'postgres'`. */
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Where the data lives. */
export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; without it, an embedded PGlite. */
  readonly url?: string | undefined;
  /** PGlite's directory. @default in memory */
  readonly dataDir?: string | undefined;
  /**
   * A file keeping a freshly initialised in-memory PGlite, so later starts load it instead
   * of running initdb again (several times faster); `false` for none.
   * @default a file in the OS temp directory, per PGlite version
   */
  readonly pgliteTemplate?: string | false | undefined;
}

/** Opens PostgreSQL at `url`, or PGlite (in `dataDir`, or in memory). */
export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<Database> {
  if (options.url) return openPostgres(options.url);
  return openPglite(await createPglite(options.dataDir, options.pgliteTemplate));
}

/** PGlite's version, from its package.json (two levels above its entry point). */
const PGLITE_VERSION: string = JSON.parse(
  readFileSync(
    join(dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite')), '..', 'package.json'),
    'utf8',
  ),
).version;

/** A PGlite in `dataDir`, or in memory from the template (made from the first one when missing). */
async function createPglite(
  dataDir: string | undefined,
  template: string | false | undefined,
): Promise<PGlite> {
  if (dataDir) return PGlite.create(dataDir);
  const file = template ?? join(tmpdir(), `tollgate-pglite-${PGLITE_VERSION}.tar.gz`);
  if (file && existsSync(file)) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([readFileSync(file)]) });
    } catch {
      // A damaged template: make a new one below.
    }
  }
  const db = await PGlite.create('memory://');
  if (file) {
    const image = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, image);
    renameSync(partial, file); // atomic: a concurrent start reads a whole file or none
  }
  return db;
}

async function openPglite(db: PGlite): Promise<Database> {
  const runner = (q: Pick<PGlite, 'query'>): SqlRunner => ({
    query: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
      (await q.query<R>(sql, [...params])).rows,
  });
  return {
    kind: 'pglite',
    ...runner(db),
    transaction: (fn) => db.transaction((tx) => fn(runner(tx))),
    close: () => db.close(),
  };
}

async function openPostgres(url: string): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => {}); // an idle client's error is reported by the next query
  const client = await pool.connect(); // fail at start, not at the first request
  client.release();
  return {
    kind: 'postgres',
    query: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
      (await pool.query(sql, [...params])).rows as R[],
    async transaction(fn) {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        const result = await fn({
          query: async <R extends object>(sql: string, params: readonly unknown[] = []) =>
            (await c.query(sql, [...params])).rows as R[],
        });
        await c.query('COMMIT');
        return result;
      } catch (error) {
        await c.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        c.release();
      }
    },
    close: () => pool.end(),
  };
}
