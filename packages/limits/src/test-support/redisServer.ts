import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import type { Service } from './services.js';

/** A throwaway `redis-server` on 127.0.0.1, on a free port, with no persistence. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** A client that fails fast while the server is down (no offline queue). */
  client(): Redis;
  stop(): Promise<void>;
  /**
   * Kills the server and starts it again on the same port, after `downMs`: all data is
   * lost, as in a crash without persistence.
   */
  restart(downMs?: number): Promise<void>;
}

/** The binary: `TOLLGATE_REDIS_SERVER` when set (a path, or a missing one to try a machine without it). */
const binary = () => process.env.TOLLGATE_REDIS_SERVER || 'redis-server';

/** What the Redis suites need; see `hasService`. */
export const redisService: Service = {
  name: 'redis-server',
  install: 'apt-get install -y redis-server (Debian/Ubuntu) or brew install redis',
  available: () => spawnSync(binary(), ['--version']).status === 0,
};

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Starts a server; fails loudly with install instructions when the binary is missing. */
export async function startRedis(): Promise<RedisServer> {
  if (!redisService.available())
    throw new Error(`redis-server was not found. The Redis tests need it: ${redisService.install}.`);
  const port = await freePort();
  let child: ChildProcess | undefined;
  const clients: Redis[] = [];
  const launch = async () => {
    child = spawn(
      binary(),
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {}); // refused until the server listens
    for (let i = 0; i < 100; i++) {
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const kill = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client() {
      const c = new Redis({
        port,
        host: '127.0.0.1',
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => 100,
      });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients.splice(0)) c.disconnect();
      await kill();
    },
    async restart(downMs = 0) {
      await kill();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
  };
}
