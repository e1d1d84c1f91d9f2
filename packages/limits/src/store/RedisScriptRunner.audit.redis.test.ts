// Audit: riders in a pipeline must reach Redis before the call they ride with, also after the server lost its scripts.
import { createHash, randomUUID } from 'node:crypto';
import { BehaviorSubject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisService, startRedis } from '../test-support/redisServer.js';
import { hasService } from '../test-support/services.js';
import { RedisScriptRunner } from './RedisScriptRunner.js';
import type { Script } from './redisShape.js';

const withRedis = hasService(redisService, import.meta.url);
let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server?.stop();
});

const script = (source: string): Script => ({ source, sha: createHash('sha1').update(source).digest('hex') });
const WRITE = script("redis.call('SET', KEYS[1], ARGV[1]) return 1");
const READ = script("return redis.call('GET', KEYS[1])");

describe.skipIf(!withRedis)('RedisScriptRunner ordering after SCRIPT FLUSH (audit)', () => {
  it('a posted write still runs before the read it rides with when the server flushed its scripts', async () => {
    const client = server.client();
    await client.connect().catch(() => {});
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    const runner = new RedisScriptRunner(client, 2_000, new BehaviorSubject(true), () => {});
    const key = `audit-${randomUUID()}`;
    try {
      // The runner learns WRITE is loaded (it loads it in the pipeline); READ it has never run.
      await runner.post(WRITE, [key], ['first']);
      // The server loses its scripts (a restart, SCRIPT FLUSH).
      await client.script('FLUSH');
      // A write posted, then a read in the same turn: Redis must run the write first.
      const posted = runner.post(WRITE, [key], ['second']);
      const read = await runner.run(READ, [key], []);
      await posted;
      // The pipeline is [SCRIPT LOAD READ, EVALSHA WRITE (NOSCRIPT), EVALSHA READ]: the read
      // runs before the write, which is only sent again (EVAL) after the pipeline.
      expect(read).toBe('second');
    } finally {
      client.disconnect();
    }
  });
});
