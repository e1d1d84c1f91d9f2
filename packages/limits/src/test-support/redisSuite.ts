// One throwaway redis-server per test file: started before its tests, stopped after them.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, startRedis } from './redisServer.js';

/** The file's server, as far as its tests need it. */
export interface SuiteRedis {
  /** A client of the running server (see `RedisServer.client`). */
  client(): Redis;
}

/** Starts a redis-server before the calling file's tests and stops it after them. */
export function useRedisServer(): SuiteRedis {
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    client() {
      if (!server) throw new Error('the redis-server of this file is not started (is it skipped?)');
      return server.client();
    },
  };
}
