import { randomUUID } from 'node:crypto';
import { ManualClock, TollgateError } from '@tollgate/core';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import type { ResourceLimits } from '../config/ResourceLimits.js';
import type { GovernorEvent } from '../governor/types.js';
import { type RedisServer, redisService, startRedis } from '../test-support/redisServer.js';
import { hasService } from '../test-support/services.js';
import {
  DistributedGovernor,
  type DistributedGovernorOptions,
  type DistributedLease,
} from './DistributedGovernor.js';
import type { QuotaConfig } from './QuotaStore.js';
import { RedisQuotaStore } from './RedisQuotaStore.js';

const withRedis = hasService(redisService, import.meta.url);
let server: RedisServer;
let redis: Redis;
let store: RedisQuotaStore;

beforeAll(async () => {
  server = await startRedis();
  redis = server.client();
  await new Promise((resolve) => redis.once('ready', resolve));
  store = new RedisQuotaStore(redis);
});

afterAll(async () => {
  await store?.close();
  await server?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ready = async (...clients: Redis[]): Promise<Redis[]> => {
  await Promise.all(clients.map((c) => c.status === 'ready' || new Promise((r) => c.once('ready', r))));
  return clients;
};
/** Keeps Redis busy for ARGV[1] ms (a slow script on another connection). */
const BUSY_SCRIPT = `local t = redis.call('TIME')
local start = t[1] * 1000 + t[2] / 1000
repeat t = redis.call('TIME') until t[1] * 1000 + t[2] / 1000 - start >= tonumber(ARGV[1])
return 1`;
/** The store's clock: redis-server's TIME, in ms, as its scripts read it. */
const serverNow = async () => {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
};
const quota = () => `test-${randomUUID()}`;

function config(overrides: Partial<QuotaConfig> = {}): QuotaConfig {
  return {
    quota: quota(),
    rates: [
      {
        name: 'requestsPerMinute',
        resource: 'requests',
        algorithm: 'sliding-window',
        limit: 3,
        windowMs: 1_000,
        capacity: 3,
      },
      {
        name: 'tokensPerMinute',
        resource: 'tokens',
        algorithm: 'token-bucket',
        limit: 100,
        windowMs: 1_000,
        capacity: 100,
      },
    ],
    maxSlots: 2,
    slotTtlMs: 500,
    holdTtlMs: 10_000,
    recoveryHoldMs: 0,
    ...overrides,
  };
}

const req = (leaseId: string, requests: number, tokens: number, slots = 0, held = false) => ({
  leaseId,
  slots,
  held,
  amounts: [requests, tokens],
});

describe.skipIf(!withRedis)('RedisQuotaStore (real redis-server)', () => {
  it('grants a batch in order until one does not fit, on the server clock, with the exact wait', async () => {
    const c = config();
    const before = await serverNow();
    const reply = await store.acquire(c, [
      req('a', 1, 10),
      req('b', 1, 10),
      req('c', 1, 10),
      req('d', 1, 10),
      req('e', 1, 10),
    ]);
    expect(reply.granted).toBe(3);
    expect(reply.blockedBy).toBe('requestsPerMinute');
    expect(reply.waitMs).toBeGreaterThan(990);
    expect(reply.waitMs).toBeLessThanOrEqual(1_000);
    expect(reply.remaining[0]).toBe(0);
    expect(reply.remaining[1]).toBeCloseTo(70, 0);
    expect(reply.now).toBeGreaterThanOrEqual(before);
    expect(reply.now).toBeLessThanOrEqual(await serverNow());
  });

  it('with deferMs, grants what the sliding window lets in that soon to start then, its entries counted from then', async () => {
    const c = config({ deferMs: 2_000 });
    const first = await store.acquire(c, [req('a', 3, 0)]);
    await sleep(20);
    // b fits when a leaves the window, c only one window after b starts: c is not granted.
    const reply = await store.acquire(c, [req('b', 3, 0), req('c', 1, 0)]);
    expect(reply.granted).toBe(1);
    expect(reply.startsInMs).toEqual([1_000 - (reply.now - first.now)]);
    expect(reply.blockedBy).toBe('requestsPerMinute');
    expect(reply.waitMs).toBe(2_000 - (reply.now - first.now));
    // b's entries are scored at its start: they count until one window after it.
    const [, score] = await redis.zrange(store.keys(c)[2]!, '-1', '-1', 'WITHSCORES');
    expect(Number(score)).toBe(first.now + 1_000);
    // A token bucket's wait is never granted ahead.
    const bucket = await store.acquire(c, [req('d', 0, 150)]);
    expect(bucket.granted).toBe(0);
    expect(bucket.startsInMs).toBeUndefined();
  });

  it('charges a token bucket, waits for its refill, and settles refunds and debt', async () => {
    // 100 tokens a minute: 40 missing refill in 24 s, far longer than two commands can be apart.
    const c = config();
    const bucket = { ...c, rates: [c.rates[0]!, { ...c.rates[1]!, windowMs: 60_000 }] };
    const first = await store.acquire(bucket, [req('a', 0, 90)]);
    expect(first.granted).toBe(1);
    const blocked = await store.acquire(bucket, [req('b', 0, 50)]);
    expect(blocked.granted).toBe(0);
    expect(blocked.blockedBy).toBe('tokensPerMinute');
    // The wait counts from the store's clock: what refilled since the first acquire shortens it.
    expect(blocked.waitMs).toBe(24_000 - (blocked.now - first.now));
    await store.settle(bucket, 'a', [0, 90], [undefined, 30]); // 60 back
    expect((await store.acquire(bucket, [req('b', 0, 50)])).granted).toBe(1);
    await store.settle(bucket, 'b', [0, 50], [undefined, 200]); // 150 more than reserved: debt
    expect((await store.status(bucket)).remaining[1]).toBeLessThan(0);
  });

  it('rewrites sliding-window entries on settle, and a held entry counts until its settle', async () => {
    const c = config();
    await store.acquire(c, [req('h', 3, 0, 0, true)]); // held: all three requests
    expect((await store.acquire(c, [req('x', 1, 0)])).granted).toBe(0);
    await store.settle(c, 'h', [3, 0], [1, undefined]); // only one was used; the hold ends now
    const after = await store.acquire(c, [req('x', 2, 0)]);
    expect(after.granted).toBe(1);
    expect(after.remaining[0]).toBe(0);
  });

  it('frees slots on release and on TTL expiry; renewal keeps them', async () => {
    const c = config({ slotTtlMs: 2_000 });
    const first = await store.acquire(c, [req('s1', 0, 0, 1), req('s2', 0, 0, 1), req('s3', 0, 0, 1)]);
    expect(first.granted).toBe(2);
    await store.release(c, 's1', 1, false, [0, 0]);
    expect((await store.acquire(c, [req('s3', 0, 0, 1)])).granted).toBe(1);
    // s3's process renews it, as a governor does, every few ms (well within the 2 s TTL); s2's
    // does not. Every status, on the store's clock, holds both until s2's TTL, then s3 alone.
    for (let status = await store.status(c); ; status = await store.status(c)) {
      if (status.now >= first.now + c.slotTtlMs) {
        expect(status.slotsUsed).toBe(1);
        break;
      }
      expect(status.slotsUsed).toBe(2);
      await sleep(50);
      await store.renew(c, [{ leaseId: 's3', slots: 1 }]);
    }
  });

  it('limits of any size work: a bucket that takes ages to refill gets a TTL Redis accepts', async () => {
    const c = config({
      rates: [
        {
          name: 'requestsPerMinute',
          resource: 'requests',
          algorithm: 'sliding-window',
          limit: 1e308,
          windowMs: 60_000,
          capacity: 1e308,
        },
        {
          name: 'tokensPerMinute',
          resource: 'tokens',
          algorithm: 'token-bucket',
          limit: 1,
          windowMs: 60_000,
          capacity: 1e15,
        },
      ],
    });
    const reply = await store.acquire(c, [req('big', 1, 10)]);
    expect(reply.granted).toBe(1);
    const keys = await redis.keys(`tollgate:{${c.quota}}*`);
    expect(keys.length).toBeGreaterThan(1);
    for (const key of keys) expect(await redis.pttl(key), key).toBeGreaterThan(0);
  });

  it('a settle that rewrites the only entry of a sliding window keeps its TTL', async () => {
    const c = config();
    const reply = await store.acquire(c, [req('only', 1, 10)]);
    expect(reply.granted).toBe(1);
    await store.settle(c, 'only', [1, 10], [1, 3]);
    await store.settle(c, 'only', [1, 10], [2, 3]); // requests 1 -> 2: the window's only entry rewritten
    const keys = await redis.keys(`tollgate:{${c.quota}}*`);
    expect(keys.some((k) => k.includes('requestsPerMinute'))).toBe(true);
    for (const key of keys) expect(await redis.pttl(key), key).toBeGreaterThan(0);
  });

  it('never revives a slot whose TTL has passed: a renewal after expiry keeps nothing', async () => {
    const c = config({ slotTtlMs: 100 });
    const first = await store.acquire(c, [req('late', 0, 0, 1)]);
    expect(first.granted).toBe(1);
    while ((await serverNow()) <= first.now + c.slotTtlMs) await sleep(20); // no script runs meanwhile
    await store.renew(c, [{ leaseId: 'late', slots: 1 }]);
    expect((await store.status(c)).slotsUsed).toBe(0);
  });

  it('stores cooldowns for every process, extending and never shortening them', async () => {
    const c = config();
    const until = await store.cooldown(c, 60_000);
    expect(await store.cooldown(c, 100)).toBe(until);
    const reply = await store.acquire(c, [req('a', 1, 1)]);
    expect(reply.granted).toBe(0);
    expect(reply.blockedBy).toBe('cooldown');
    expect(reply.waitMs).toBe(until - reply.now);
  });

  it('works on windows and TTLs that are not whole ms, and every key it writes has a TTL', async () => {
    const c = config({
      rates: [
        {
          name: 'requestsPerMinute',
          resource: 'requests',
          algorithm: 'sliding-window',
          limit: 2,
          windowMs: 60_000 / 7,
          capacity: 2,
        },
        {
          name: 'tokensPerMinute',
          resource: 'tokens',
          algorithm: 'token-bucket',
          limit: 100,
          windowMs: 1_000.5,
          capacity: 100,
        },
      ],
      slotTtlMs: 500.5,
      holdTtlMs: 1_000.25,
      recoveryHoldMs: 0.5,
    });
    await sleep(5); // past the recovery hold of a fresh quota
    const first = await store.acquire(c, [req('a', 1, 10, 1, true)]);
    expect(first.blockedBy).toBe('cooldown');
    await sleep(5);
    const reply = await store.acquire(c, [req('a', 1, 10, 1, true), req('b', 1, 10, 1), req('c', 1, 10)]);
    expect(reply.granted).toBe(2);
    expect(reply.blockedBy).toBe('requestsPerMinute');
    expect(Number.isInteger(reply.waitMs)).toBe(true);
    await store.settle(c, 'a', [1, 10], [1, 5]);
    await store.release(c, 'b', 1, false, [1, 10]);
    await store.renew(c, [{ leaseId: 'a', slots: 1 }]);
    await store.take(c, 0, 0.5);
    await store.cooldown(c, 5_000.5);
    expect((await store.status(c)).remaining[0]).toBeCloseTo(-0.5);
    const keys = await redis.keys(`tollgate:{${c.quota}}*`);
    expect(keys.length).toBeGreaterThan(3);
    for (const key of keys) expect(await redis.pttl(key), key).toBeGreaterThan(0);
  });

  it('checks every argument before its first write: bad input leaves nothing behind', async () => {
    const c = config();
    await expect(store.acquire(c, [req('a', 1, 10, 1), req('b', Number.NaN, 10, 1)])).rejects.toThrow(
      /not a number/,
    );
    expect(await redis.keys(`tollgate:{${c.quota}}*`)).toEqual([]);
  });

  it('an acquire that timed out on a busy server is undone before the next one, not granted to nobody', async () => {
    const c = config({ maxSlots: 1, slotTtlMs: 20_000 });
    const [client, blocker] = await ready(server.client(), server.client());
    const impatient = new RedisQuotaStore(client!, { commandTimeoutMs: 100 });
    const busy = blocker!.eval(BUSY_SCRIPT, 0, '600');
    await sleep(50);
    await expect(impatient.acquire(c, [req('late', 1, 10, 1)])).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    await busy; // Redis ran the timed-out acquire after the busy script
    const reply = await impatient.acquire(c, [req('next', 1, 10, 1)]);
    expect(reply.granted).toBe(1);
    expect(reply.remaining[0]).toBe(2); // the window holds only 'next'
    expect(reply.remaining[1]).toBeCloseTo(90, 0); // the bucket was refunded 'late''s 10 tokens
    expect(await redis.zrange(`tollgate:{${c.quota}}:slots`, '0', '-1')).toEqual(['next#1']);
    await impatient.close();
  });

  it('an acquire that timed out on a busy server is undone when its late reply comes, with no further call', async () => {
    const c = config({ maxSlots: 1, slotTtlMs: 20_000 });
    const [client, blocker] = await ready(server.client(), server.client());
    const impatient = new RedisQuotaStore(client!, { commandTimeoutMs: 100 });
    const busy = blocker!.eval(BUSY_SCRIPT, 0, '400');
    await sleep(50);
    await expect(impatient.acquire(c, [req('late', 1, 10, 1)])).rejects.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
    await busy; // Redis ran the timed-out acquire after the busy script; the store goes idle
    const slots = `tollgate:{${c.quota}}:slots`;
    for (let i = 0; i < 50 && (await redis.zcard(slots)) > 0; i++) await sleep(10);
    expect(await redis.zrange(slots, '0', '-1')).toEqual([]);
    await impatient.close();
  });

  it('keys every quota under one hash tag (Redis Cluster slot)', () => {
    const keys = store.keys(config({ quota: 'openai:gpt-4o-mini' }));
    expect(keys.every((k) => k.startsWith('tollgate:{openai:gpt-4o-mini}:'))).toBe(true);
  });
});

describe.skipIf(!withRedis)('DistributedGovernor over Redis', () => {
  function governors(limits: ResourceLimits, options: Partial<DistributedGovernorOptions> = {}, n = 2) {
    const q = quota();
    return Array.from({ length: n }, (_, i) => {
      // Each "process" has its own connection and store, as separate processes would.
      const client = server.client();
      const s = new RedisQuotaStore(client);
      return new DistributedGovernor(limits, { store: s, quota: q, name: `p${i}`, jitterMs: 1, ...options });
    });
  }

  it('wakes a waiter in another process as soon as a slot is released (pub/sub), not at the TTL', async () => {
    // Their clocks stand still: no timer of theirs can fire, so only the store's message can wake b.
    const clock = new ManualClock();
    const [a, b] = governors({ maxConcurrentTasks: 1 }, { slotTtlMs: 5_000, clock });
    const lease = await a!.acquire({ task: 1 });
    const queued = new Promise((resolve) => b!.events$.subscribe((e) => e.type === 'queued' && resolve(e)));
    const waiting = b!.acquire({ task: 1 });
    await queued;
    lease.release();
    const got = await waiting;
    expect(clock.now()).toBe(0);
    got.release();
    a!.dispose();
    b!.dispose();
  });

  it('never exceeds a window and leaks nothing, whatever two processes do (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(
          fc.record({
            who: fc.nat({ max: 1 }),
            requests: fc.integer({ min: 0, max: 2 }),
            task: fc.boolean(),
            held: fc.boolean(),
            delayMs: fc.integer({ min: 0, max: 60 }),
            settleTo: fc.option(fc.integer({ min: 0, max: 2 })),
          }),
          { minLength: 5, maxLength: 14 },
        ),
        async (rpm, ops) => {
          const windowMs = 300;
          const gs = governors({
            maxRequestsPerMinute: rpm,
            maxConcurrentTasks: 2,
            algorithm: 'sliding-window',
            timeScale: 60_000 / windowMs,
            resourceWaitTimeoutSeconds: 10,
          });
          const admissions: { at: number; lease: DistributedLease; amount: number }[] = [];
          let maxActive = 0;
          const runs = ops.map(async (op) => {
            await sleep(op.delayMs);
            const g = gs[op.who]!;
            const lease = (await g.acquire(
              { requests: op.requests, task: op.task },
              { holdUntilSettled: op.held },
            )) as DistributedLease;
            maxActive = Math.max(maxActive, gs[0]!.activeTasks + gs[1]!.activeTasks);
            const entry = { at: lease.admittedAt!, lease, amount: op.requests };
            admissions.push(entry);
            await sleep(20);
            if (op.settleTo !== null) {
              const used = Math.min(op.settleTo, op.requests);
              lease.settle({ requests: used });
              entry.amount = used;
            }
            lease.release();
          });
          const outcomes = await Promise.allSettled(runs);
          for (const o of outcomes)
            if (o.status === 'rejected') expect(TollgateError.is(o.reason), String(o.reason)).toBe(true);
          expect(maxActive).toBeLessThanOrEqual(2);
          for (const x of admissions) {
            const load = admissions
              .filter((y) => y.at >= x.at && y.at < x.at + windowMs)
              .reduce((s, y) => s + y.amount, 0);
            expect(load).toBeLessThanOrEqual(rpm);
          }
          const status = await gs[0]!.refresh();
          expect(status.queued + gs[1]!.queued).toBe(0);
          expect(gs[0]!.activeTasks + gs[1]!.activeTasks).toBe(0);
          // Releases reach the store after the calls return: wait for them (a leaked slot would
          // stay for its 10 s TTL, past this wait).
          await vi.waitFor(async () => expect((await gs[0]!.store.status(gs[0]!.config)).slotsUsed).toBe(0), {
            timeout: 5_000,
            interval: 20,
          });
          for (const g of gs) g.dispose();
        },
      ),
      { numRuns: 12 },
    );
  }, 120_000);

  it('a caller whose acquire timed out on a busy Redis gets the slot once it is free, not after the slot TTL', async () => {
    const [client, blocker] = await ready(server.client(), server.client());
    const s = new RedisQuotaStore(client!, { commandTimeoutMs: 150 });
    const g = new DistributedGovernor(
      { maxConcurrentTasks: 1 },
      { store: s, quota: quota(), slotTtlMs: 30_000, retryMs: 50 },
    );
    const busy = blocker!.eval(BUSY_SCRIPT, 0, '800');
    await sleep(50);
    const waiting = g.acquire({ task: 1 }) as Promise<DistributedLease>;
    await busy;
    // Bound: the busy script's end, a probe (50 ms) and a few round trips. The timed-out
    // acquire, run late, would hold the caller's own slot for the slot TTL (30 s) instead.
    const lease = await Promise.race([waiting, sleep(5_000).then(() => undefined)]);
    expect(lease, 'still waiting for its own phantom slot').toBeDefined();
    expect(await redis.zrange(`tollgate:{${g.config.quota}}:slots`, '0', '-1')).toEqual([
      `${lease!.storeId}#1`,
    ]);
    lease!.release();
    g.dispose();
    await s.close();
  }, 20_000);

  it('an acquire given up on during an outage is never sent later: no phantom slot after the restart', async () => {
    const own = await startRedis();
    onTestFinished(() => own.stop()); // also when an assertion fails
    const [client] = await ready(own.client());
    const s = new RedisQuotaStore(client!, { commandTimeoutMs: 150 });
    const g = new DistributedGovernor(
      { maxConcurrentTasks: 1, maxRequestsPerMinute: 10, algorithm: 'sliding-window' },
      { store: s, quota: quota(), slotTtlMs: 30_000, retryMs: 50 },
    );
    onTestFinished(() => g.dispose());
    (await g.acquire({ task: 1, requests: 1 })).release();
    const restarted = own.restart(800);
    await sleep(50);
    const waiting = g.acquire({ task: 1, requests: 1 }) as Promise<DistributedLease>;
    await restarted;
    // Bound: the restart, a reconnect (100 ms), a probe (50 ms) and a few round trips. A
    // phantom slot would hold the waiter for the slot TTL (30 s) instead.
    const lease = await Promise.race([waiting, sleep(5_000).then(() => undefined)]);
    expect(lease, 'still waiting for its own phantom slot').toBeDefined();
    const [check] = await ready(own.client());
    expect(await check!.zrange(`tollgate:{${g.config.quota}}:slots`, '0', '-1')).toEqual([
      `${lease!.storeId}#1`,
    ]);
    lease!.release();
    await s.close();
  }, 20_000);

  it('survives a Redis restart: fail-closed waits, recovers, and the recovery hold keeps the window', async () => {
    const windowMs = 600;
    const [g] = governors(
      { maxRequestsPerMinute: 2, algorithm: 'sliding-window', timeScale: 60_000 / windowMs },
      { retryMs: 100, recoveryHoldMs: windowMs },
      1,
    );
    const events: GovernorEvent[] = [];
    g!.events$.subscribe((e) => events.push(e));
    const admitted: number[] = [];
    const take = async () => {
      const lease = (await g!.acquire({ requests: 1 })) as DistributedLease;
      admitted.push(lease.admittedAt!); // the store's clock
      lease.release();
    };
    await take(); // the first acquire on a fresh store starts the recovery hold
    await take();
    await server.restart(); // every key is gone
    const during = take();
    await sleep(300);
    expect(g!.storeDown || events.some((e) => e.type === 'store-unavailable')).toBe(true);
    await during;
    await take();
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['store-unavailable', 'store-recovered']),
    );
    // After the restart nothing was admitted until a full window had passed since the last admission before it.
    expect(admitted[2]! - admitted[1]!).toBeGreaterThanOrEqual(windowMs);
    // And no window ever held more than 2.
    for (const t of admitted)
      expect(admitted.filter((u) => u >= t && u < t + windowMs).length).toBeLessThanOrEqual(2);
    g!.dispose();
  }, 30_000);
});
