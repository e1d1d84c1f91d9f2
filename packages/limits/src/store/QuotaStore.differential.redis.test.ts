import { randomUUID } from 'node:crypto';
import type { Clock } from '@tollgate/core';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisService, startRedis } from '../test-support/redisServer.js';
import { hasService } from '../test-support/services.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';
import type { QuotaConfig, StoreRate, StoreStatus } from './QuotaStore.js';
import { RedisQuotaStore } from './RedisQuotaStore.js';

/**
 * The memory store and the Redis store claim the same semantics: the same random
 * operations go to both, the memory store on a clock set to the time the Redis script
 * read, and every answer (and the status after every operation) must be the same.
 */
const withRedis = hasService(redisService, import.meta.url);

/** An ioredis client that remembers the last script reply, sent alone or in a pipeline (the scripts answer with the time they read). */
function recording(client: Redis): { client: Redis; lastReply(): unknown; forget(): void } {
  let last: unknown;
  const proxy = new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      if (prop === 'pipeline')
        // settles and releases travel in pipelines: the last script reply there counts too
        return (...args: unknown[]) => {
          const pipe = (value as (...a: unknown[]) => ReturnType<Redis['pipeline']>).apply(target, args);
          const exec = pipe.exec.bind(pipe);
          pipe.exec = async () => {
            const replies = await exec();
            const final = replies?.at(-1);
            if (final && !final[0]) last = final[1];
            return replies;
          };
          return pipe;
        };
      if (prop === 'evalsha' || prop === 'eval')
        return async (...args: unknown[]) => {
          last = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          return last;
        };
      return value.bind(target);
    },
  });
  return {
    client: proxy,
    lastReply: () => last,
    forget: () => {
      last = undefined;
    },
  };
}

/** A clock the test sets: the memory store reads the time the Redis script read. */
class SetClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  setTimeout(): never {
    throw new Error('the stores under test set no timers');
  }
  clearTimeout(): void {}
}

const rateArb: fc.Arbitrary<Omit<StoreRate, 'name'>> = fc
  .record({
    algorithm: fc.constantFrom('sliding-window' as const, 'token-bucket' as const),
    limit: fc.integer({ min: 1, max: 6 }),
    windowMs: fc.integer({ min: 80, max: 400 }),
    extra: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ algorithm, limit, windowMs, extra }) => ({
    resource: 'units',
    algorithm,
    limit,
    windowMs,
    capacity: algorithm === 'sliding-window' ? limit : limit + extra,
  }));

const configArb = fc.record({
  rates: fc.array(rateArb, { minLength: 1, maxLength: 3 }),
  maxSlots: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
  slotTtlMs: fc.integer({ min: 100, max: 400 }),
  holdTtlMs: fc.integer({ min: 50, max: 300 }),
  // Requests the sliding windows keep out briefly may be granted ahead, to start later.
  deferMs: fc.constantFrom(0, 40, 400),
});

const amountsArb = fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 3, maxLength: 3 });
const opArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      requests: fc.array(
        fc.record({ slots: fc.integer({ min: 0, max: 2 }), held: fc.boolean(), amounts: amountsArb }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      actual: fc.array(fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }), {
        minLength: 3,
        maxLength: 3,
      }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('release' as const),
      pick: fc.nat(),
      endHold: fc.boolean(),
      agoMs: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 150 }),
        fc.double({ min: 0.5, max: 30, noNaN: true }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('renew' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('cooldown' as const), ms: fc.integer({ min: 0, max: 200 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('take' as const),
      index: fc.nat({ max: 2 }),
      amount: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 150 }) }),
  },
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

interface Granted {
  readonly leaseId: string;
  readonly slots: number;
  readonly amounts: readonly number[];
}

describe.skipIf(!withRedis)('MemoryQuotaStore against a real RedisQuotaStore', () => {
  let server: RedisServer;
  let redis: ReturnType<typeof recording>;
  let store: RedisQuotaStore;

  beforeAll(async () => {
    server = await startRedis();
    const client = server.client();
    await new Promise((resolve) => client.once('ready', resolve));
    redis = recording(client);
    store = new RedisQuotaStore(redis.client);
  });

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  /** Runs `ops` on both stores, comparing every answer; the time Redis read drives the memory store. */
  async function run(
    shape: Omit<QuotaConfig, 'quota' | 'recoveryHoldMs' | 'rates'> & { rates: Omit<StoreRate, 'name'>[] },
    ops: Op[],
  ) {
    const config: QuotaConfig = {
      ...shape,
      quota: `diff-${randomUUID()}`,
      rates: shape.rates.map((r, i) => ({ ...r, name: `rate${i}` })),
      recoveryHoldMs: 0,
    };
    const clock = new SetClock();
    const memory = new MemoryQuotaStore(clock);
    // A script's reply is the time it read (a call that sent no script leaves the clock).
    const at = (now: unknown) => {
      if (typeof now === 'number') clock.t = Math.max(clock.t, now);
    };
    const granted: Granted[] = [];
    let status: StoreStatus = await store.status(config);
    at(status.now);
    expect(await memory.status(config)).toEqual(status);
    let next = 0;
    for (const op of ops) {
      redis.forget();
      const amounts = (a: readonly (number | undefined)[]) => config.rates.map((_, i) => a[i]);
      if (op.kind === 'acquire') {
        const requests = op.requests.map((r) => ({
          leaseId: `lease-${++next}`,
          slots: r.slots,
          held: r.held,
          amounts: config.rates.map((_, i) => r.amounts[i]!),
        }));
        const reply = await store.acquire(config, requests);
        at(reply.now);
        expect(await memory.acquire(config, requests), `acquire ${JSON.stringify(requests)}`).toEqual(reply);
        granted.push(...requests.slice(0, reply.granted));
      } else if (op.kind === 'settle' && granted.length > 0) {
        const lease = granted.splice(op.pick % granted.length, 1)[0]!;
        const actual = amounts(op.actual);
        await store.settle(config, lease.leaseId, lease.amounts, actual);
        at(redis.lastReply());
        await memory.settle(config, lease.leaseId, lease.amounts, actual);
      } else if (op.kind === 'release' && granted.length > 0) {
        const lease = granted[op.pick % granted.length]!;
        await store.release(config, lease.leaseId, lease.slots, op.endHold, lease.amounts, op.agoMs);
        at(redis.lastReply());
        await memory.release(config, lease.leaseId, lease.slots, op.endHold, lease.amounts, op.agoMs);
      } else if (op.kind === 'renew' && granted.length > 0) {
        const leases = granted.map(({ leaseId, slots }) => ({ leaseId, slots }));
        await store.renew(config, leases);
        at(redis.lastReply());
        await memory.renew(config, leases);
      } else if (op.kind === 'cooldown') {
        const until = await store.cooldown(config, op.ms);
        // A cooldown that moved ended `ms` after the time the script read; one that did not
        // is not moved by the memory store either at the time it last read (earlier).
        if (until > status.cooldownUntil) at(until - op.ms);
        expect(await memory.cooldown(config, op.ms), `cooldown ${op.ms}`).toBe(until);
      } else if (op.kind === 'take' && op.index < config.rates.length) {
        await store.take(config, op.index, op.amount);
        at(redis.lastReply());
        await memory.take(config, op.index, op.amount);
      } else if (op.kind === 'wait') {
        await new Promise((resolve) => setTimeout(resolve, op.ms));
      }
      status = await store.status(config);
      at(status.now);
      expect(await memory.status(config), `status after ${op.kind}`).toEqual(status);
    }
  }

  it('give the same answer to every operation, in any order and at any time (property)', async () => {
    await fc.assert(fc.asyncProperty(configArb, fc.array(opArb, { minLength: 4, maxLength: 24 }), run), {
      numRuns: 25,
    });
  }, 240_000);
});
