import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisService } from '../test-support/redisServer.js';
import { useRedisServer } from '../test-support/redisSuite.js';
import { hasService } from '../test-support/services.js';
import { DistributedGovernor } from './DistributedGovernor.js';
import { StoreUnavailableError } from './errors.js';
import type { QuotaConfig } from './QuotaStore.js';
import { RedisQuotaStore } from './RedisQuotaStore.js';

const withRedis = hasService(redisService, import.meta.url);
const server = useRedisServer();

/** A client that counts what it sends: each single command and each pipeline is one write and one round trip. */
async function counting(): Promise<{ client: Redis; sends: () => number }> {
  const client = server.client();
  await new Promise((resolve) => client.once('ready', resolve));
  let sends = 0;
  const evalsha = client.evalsha.bind(client);
  client.evalsha = ((...args: Parameters<Redis['evalsha']>) => {
    sends++;
    return evalsha(...args);
  }) as Redis['evalsha'];
  const pipeline = client.pipeline.bind(client);
  client.pipeline = ((...args: Parameters<Redis['pipeline']>) => {
    const pipe = pipeline(...args);
    const exec = pipe.exec.bind(pipe);
    pipe.exec = (...a: Parameters<typeof pipe.exec>) => {
      sends++;
      return exec(...a);
    };
    return pipe;
  }) as Redis['pipeline'];
  return { client, sends: () => sends };
}

const config = (overrides: Partial<QuotaConfig> = {}): QuotaConfig => ({
  quota: `runner-${randomUUID()}`,
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
  maxSlots: 1,
  slotTtlMs: 60_000,
  holdTtlMs: 60_000,
  recoveryHoldMs: 0,
  ...overrides,
});

const req = (leaseId: string, tokens: number, slots = 1) => ({
  leaseId,
  slots,
  held: false,
  amounts: [tokens],
});

describe.skipIf(!withRedis)('RedisQuotaStore sends settles and releases with the next call', () => {
  it('a settle and a release ride with the acquire that follows them: one round trip, run before it', async () => {
    const { client, sends } = await counting();
    const store = new RedisQuotaStore(client);
    const c = config();
    expect((await store.acquire(c, [req('a', 8)])).granted).toBe(1);
    const before = sends();
    // Settled at 2 of 8 tokens and released: the slot and 6 tokens are free again, but only
    // if Redis runs both before the acquire, which needs the slot and 7 tokens.
    const settled = store.settle(c, 'a', [8], [2]);
    const released = store.release(c, 'a', 1, false, [8]);
    const reply = await store.acquire(c, [req('b', 7)]);
    await Promise.all([settled, released]);
    expect(reply, JSON.stringify(reply)).toMatchObject({ granted: 1 });
    expect(reply.remaining[0]).toBeCloseTo(1, 1);
    expect(sends() - before).toBe(1);
    await store.close();
    client.disconnect();
  });

  it('sends what is posted at the end of the event-loop turn when no call follows', async () => {
    const { client, sends } = await counting();
    const store = new RedisQuotaStore(client);
    const c = config();
    await store.acquire(c, [req('a', 1)]);
    const before = sends();
    const released = store.release(c, 'a', 1, false, [1]);
    const settled = store.settle(c, 'a', [1], [0]);
    expect(sends()).toBe(before); // posted, not sent yet
    await Promise.all([released, settled]);
    expect(sends() - before).toBe(1);
    const status = await store.status(c);
    expect(status.slotsUsed).toBe(0);
    expect(status.remaining[0]).toBeCloseTo(10, 3);
    await store.close();
    client.disconnect();
  });

  it('close sends what is still posted before it returns', async () => {
    const { client } = await counting();
    const store = new RedisQuotaStore(client);
    const c = config();
    await store.acquire(c, [req('a', 1)]);
    const released = store.release(c, 'a', 1, false, [1]);
    await store.close();
    await released;
    const other = new RedisQuotaStore(client);
    expect((await other.status(c)).slotsUsed).toBe(0);
    await other.close();
    client.disconnect();
  });

  it('a connection killed with a pipeline in flight rejects every call in it: nothing hangs', async () => {
    const { client } = await counting();
    const admin = server.client();
    await new Promise((resolve) => admin.once('ready', resolve));
    const store = new RedisQuotaStore(client, { commandTimeoutMs: 1_000 });
    const c = config();
    await store.acquire(c, [req('a', 1)]);
    // A slow script on the admin connection holds Redis while the pipeline waits behind it.
    const busy = admin.eval(
      "local t = redis.call('TIME') local s = t[1] * 1000 + t[2] / 1000 repeat t = redis.call('TIME') until t[1] * 1000 + t[2] / 1000 - s >= 200 return 1",
      0,
    );
    const settled = store.settle(c, 'a', [1], [1]);
    const acquired = store.acquire(c, [req('b', 1)]);
    await new Promise((resolve) => setImmediate(resolve));
    client.stream.destroy(); // the connection dies with both in flight
    const outcomes = await Promise.allSettled([settled, acquired]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    for (const o of outcomes)
      expect(StoreUnavailableError.is((o as PromiseRejectedResult).reason)).toBe(true);
    await busy;
    await store.close();
    admin.disconnect();
    client.disconnect();
  });

  it('a governor whose leases settle and release spends one round trip per acquire', async () => {
    const { client, sends } = await counting();
    const store = new RedisQuotaStore(client);
    const governor = new DistributedGovernor(
      { maxConcurrentTasks: 4, maxTokensPerMinute: 1_000_000 },
      { store, quota: `runner-${randomUUID()}` },
    );
    await (await governor.acquire({ tokens: 10 })).release();
    const before = sends();
    for (let k = 0; k < 20; k++) {
      const lease = await governor.acquire({ tokens: 10 });
      lease.settle({ tokens: 7 });
      lease.release();
    }
    await store.status(governor.config);
    // 20 acquires, and the status; the last lease's settle and release rode with the status.
    expect(sends() - before).toBe(21);
    expect((await store.status(governor.config)).slotsUsed).toBe(0);
    governor.dispose();
    await store.close();
    client.disconnect();
  });
});
