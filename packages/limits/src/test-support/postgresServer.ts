import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redisServer.js';
import type { Service } from './services.js';

/** A throwaway PostgreSQL server on 127.0.0.1, on a free port, in a temp dir, trusting local connections. */
export interface PostgresServer {
  readonly port: number;
  /** `postgres://tollgate@127.0.0.1:PORT/postgres` */
  readonly url: string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): string;
  stop(): Promise<void>;
}

/**
 * The directory of `initdb`, `postgres` and `psql`: `TOLLGATE_POSTGRES_BIN` when set, else
 * the newest Debian install (/usr/lib/postgresql/N/bin), else the PATH (`''`).
 */
function binDir(): string | undefined {
  const fromEnv = process.env.TOLLGATE_POSTGRES_BIN;
  if (fromEnv !== undefined) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return join(debian, versions[0], 'bin');
  }
  return spawnSync('initdb', ['--version']).status === 0 ? '' : undefined;
}

const bin = (dir: string, name: string) => (dir ? join(dir, name) : name);

/** What the PostgreSQL suites need; see `hasService`. */
export const postgresService: Service = {
  name: 'postgresql',
  install: 'apt-get install -y postgresql (Debian/Ubuntu) or brew install postgresql',
  available: () => binDir() !== undefined,
};

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` user. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  return { uid, gid };
}

/** Starts a server; fails loudly with install instructions when PostgreSQL is missing. */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = binDir();
  if (dir === undefined)
    throw new Error(`PostgreSQL was not found. Its tests need it: ${postgresService.install}.`);
  const user = runAs();
  const home = mkdtempSync(join(tmpdir(), 'tollgate-postgres-'));
  if (user) chownSync(home, user.uid, user.gid);
  const data = join(home, 'data');
  execFileSync(
    bin(dir, 'initdb'),
    ['-D', data, '-U', 'tollgate', '--auth=trust', '-E', 'UTF8', '--no-sync'],
    {
      ...user,
      stdio: 'ignore',
    },
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    bin(dir, 'postgres'),
    ['-D', data, '-p', String(port), '-k', home, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    { ...user, stdio: 'ignore' },
  );
  const psql = (sql: string, database = 'postgres') =>
    spawnSync(
      bin(dir, 'psql'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', 'tollgate', '-d', database, '-c', sql],
      {
        ...user,
        encoding: 'utf8',
      },
    );
  for (let i = 0; ; i++) {
    if (psql('SELECT 1').status === 0) break;
    if (i >= 200 || child.exitCode !== null) throw new Error(`postgres did not start on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = (database: string) => `postgres://tollgate@127.0.0.1:${port}/${database}`;
  return {
    port,
    url: url('postgres'),
    createDatabase(name) {
      const result = psql(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      if (result.status !== 0) throw new Error(`could not create database ${name}: ${result.stderr}`);
      return url(name);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(home, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null) return done();
        child.once('exit', done);
        child.kill('SIGINT'); // fast shutdown
      }),
  };
}
