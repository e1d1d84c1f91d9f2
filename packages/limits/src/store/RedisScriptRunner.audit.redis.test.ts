// Audit: riders in a pipeline must reach Redis before the call they ride with, also after the server lost its scripts.
import { createHash, randomUUID } from 'node:crypto';
import { BehaviorSubject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { redisService } from '../test-support/redisServer.js';
import { useRedisServer } from '../test-support/redisSuite.js';
import { hasService } from '../test-support/services.js';
import type { QuotaConfig } from './QuotaStore.js';
import { RedisQuotaStore } from './RedisQuotaStore.js';
import { RedisScriptRunner } from './RedisScriptRunner.js';
import type { Script } from './redisShape.js';

const withRedis = hasService(redisService, import.meta.url);
const server = useRedisServer();

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

  it('a settle that raises usage is counted before the acquire it rides with, after a script flush', async () => {
    const client = server.client();
    if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
    const store = new RedisQuotaStore(client);
    const c: QuotaConfig = {
      quota: `audit-${randomUUID()}`,
      rates: [
        {
          name: 'tokens',
          resource: 'tokens',
          algorithm: 'token-bucket',
          limit: 10,
          windowMs: 60_000,
          capacity: 10,
        },
      ],
      maxSlots: 10,
      slotTtlMs: 60_000,
      holdTtlMs: 60_000,
      recoveryHoldMs: 0,
    };
    const req = (leaseId: string, tokens: number) => ({ leaseId, slots: 0, held: false, amounts: [tokens] });
    try {
      // Leases a and b reserve 2 tokens each.
      expect((await store.acquire(c, [req('a', 2), req('b', 2)])).granted).toBe(2);
      await client.script('FLUSH'); // a restart
      await store.status(c); // NOSCRIPT: the runner forgets what it loaded
      await store.settle(c, 'a', [2], [2]); // loads SETTLE in its pipeline: known loaded again
      await client.script('FLUSH'); // another restart
      // b used 8 tokens: 10 of 10 are spent, and an acquire of 3 must wait.
      const settled = store.settle(c, 'b', [2], [8]);
      const reply = await store.acquire(c, [req('c', 3)]);
      await settled;
      // The pipeline is [SCRIPT LOAD ACQUIRE, EVALSHA SETTLE (NOSCRIPT), EVALSHA ACQUIRE]: the
      // acquire sees 4 tokens spent and grants 3 more; the settle runs after it, 13 of 10.
      expect(reply.granted, JSON.stringify(reply)).toBe(0);
    } finally {
      await store.close();
      client.disconnect();
    }
  });
});
