import {
  InvalidArgumentError,
  ManualClock,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  TollgateError,
} from '@tollgate/core';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { BehaviorSubject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ResourceLimits } from '../config/ResourceLimits.js';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';
import type { GovernorEvent } from '../governor/types.js';
import { StaticMemoryProbe } from '../memory/MemoryProbe.js';
import {
  DistributedGovernor,
  type DistributedGovernorOptions,
  type DistributedLease,
} from './DistributedGovernor.js';
import { StoreUnavailableError } from './errors.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';
import type { QuotaStore } from './QuotaStore.js';
import { RedisQuotaStore } from './RedisQuotaStore.js';

/** Enough of an ioredis client to construct a store (never connected). */
const fakeRedis = () =>
  ({ status: 'wait', evalsha() {}, on() {}, off() {}, options: {} }) as unknown as Redis;

/** A memory store that can be switched off, as a Redis outage. */
class FlakyStore extends MemoryQuotaStore {
  down = false;
  override readonly available$ = new BehaviorSubject(true);
  override async acquire(...args: Parameters<MemoryQuotaStore['acquire']>) {
    this.#check();
    return super.acquire(...args);
  }
  override async status(...args: Parameters<MemoryQuotaStore['status']>) {
    this.#check();
    return super.status(...args);
  }
  #check() {
    if (this.down) throw new StoreUnavailableError('flaky', 'switched off');
  }
}

function pair(limits: ResourceLimits, options: Partial<DistributedGovernorOptions> = {}, store?: QuotaStore) {
  const clock = new ManualClock();
  const shared = store ?? new MemoryQuotaStore(clock);
  const make = (name: string) =>
    new DistributedGovernor(limits, { store: shared, quota: 'q', clock, jitterMs: 0, name, ...options });
  return { clock, store: shared, a: make('a'), b: make('b') };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('DistributedGovernor on a shared store', () => {
  it('grants in FIFO order across the batch, and waits exactly until the window frees', async () => {
    const { clock, a } = pair({ maxRequestsPerMinute: 3, algorithm: 'sliding-window', timeScale: 60 });
    const granted: number[] = [];
    const all = Array.from({ length: 5 }, (_, i) => a.acquire({ requests: 1 }).then(() => granted.push(i)));
    await clock.advanceAsync(0);
    await settle();
    expect(granted).toEqual([0, 1, 2]);
    await clock.advanceAsync(999);
    await settle();
    expect(granted).toEqual([0, 1, 2]);
    await clock.advanceAsync(1);
    await settle();
    await clock.advanceAsync(0);
    await Promise.all(all);
    expect(granted).toEqual([0, 1, 2, 3, 4]);
  });

  it('shares slots between processes; a release anywhere wakes the waiter at once', async () => {
    const { clock, a, b } = pair({ maxConcurrentTasks: 1 });
    const first = await a.acquire({ task: 1 });
    let got: DistributedLease | undefined;
    void b.acquire({ task: 1 }).then((l) => (got = l as DistributedLease));
    await clock.advanceAsync(100);
    await settle();
    expect(got).toBeUndefined();
    expect(b.queued).toBe(1);
    first.release();
    await settle();
    await clock.advanceAsync(0);
    await settle();
    expect(got).toBeDefined();
    expect(clock.now()).toBe(100);
    got!.release();
  });

  it('frees the slots of a process that stops renewing them after the TTL', async () => {
    const { clock, a, b } = pair({ maxConcurrentTasks: 1 }, { slotTtlMs: 3_000 });
    await a.acquire({ task: 1 });
    a.dispose(); // the process "dies": no release, no renewal
    let got = false;
    void b.acquire({ task: 1 }).then(() => (got = true));
    await clock.advanceAsync(2_999);
    await settle();
    expect(got).toBe(false);
    await clock.advanceAsync(1);
    await settle();
    await clock.advanceAsync(0);
    await settle();
    expect(got).toBe(true);
  });

  it('a waiter blocked by a dead holder sleeps exactly until its slot expires: one store call to learn it, one at it', async () => {
    const { clock, store, a, b } = pair(
      { maxConcurrentTasks: 1, maxRequestsPerMinute: 100, timeScale: 200 }, // a window of 300 ms
      { slotTtlMs: 3_000 },
    );
    await a.acquire({ task: 1 });
    await clock.advanceAsync(100);
    a.dispose(); // dies at 100 ms; its slot expires at 3,000 ms
    const calls: number[] = [];
    const acquire = store.acquire.bind(store);
    store.acquire = (config, requests) => {
      calls.push(clock.now());
      return acquire(config, requests);
    };
    let grantedAt: number | undefined;
    void b.acquire({ task: 1 }).then(() => (grantedAt = clock.now()));
    while (grantedAt === undefined && clock.now() < 10_000) {
      await clock.runNext();
      await settle();
    }
    expect(grantedAt).toBe(3_000);
    expect(calls).toEqual([100, 3_000]);
  });

  it('a waiter behind a window settled in another process asks ahead and starts at its end exactly, with no store call after it', async () => {
    const run = async (deferMs: number) => {
      const { clock, store, a, b } = pair(
        { maxRequestsPerMinute: 2, algorithm: 'sliding-window', timeScale: 60 }, // 2 per 1,000 ms
        { deferMs },
      );
      const held = await Promise.all(
        [1, 2].map(() => a.acquire({ requests: 1 }, { holdUntilSettled: true })),
      );
      const calls: number[] = [];
      const acquire = store.acquire.bind(store);
      store.acquire = (config, requests) => {
        calls.push(clock.now());
        return acquire(config, requests);
      };
      let lease: DistributedLease | undefined;
      let grantedAt: number | undefined;
      void b.acquire({ requests: 1 }).then((l) => {
        lease = l as DistributedLease;
        grantedAt = clock.now();
      });
      await clock.advanceAsync(100);
      for (const l of held) l.settle({ requests: 1 }); // the replies came at 100 ms: the window ends at 1,100
      while (grantedAt === undefined && clock.now() < 5_000) {
        await clock.runNext();
        await settle();
      }
      a.dispose();
      b.dispose();
      return { grantedAt, admittedAt: lease?.admittedAt, calls };
    };
    // Asked 25 ms ahead, granted to start at the window's end: its own timer lets it go then.
    expect(await run(50)).toEqual({ grantedAt: 1_100, admittedAt: 1_100, calls: [0, 100, 1_075] });
    // Without grants ahead, the same: one call when the settle wakes it, one at the window's end.
    expect(await run(0)).toEqual({ grantedAt: 1_100, admittedAt: 1_100, calls: [0, 100, 1_100] });
  });

  it('a waiter granted ahead that gives up before its start gives its reservation back', async () => {
    const { clock, store, a, b } = pair(
      { maxRequestsPerMinute: 1, algorithm: 'sliding-window', timeScale: 60 },
      { deferMs: 400 },
    );
    await a.acquire({ requests: 1 });
    await clock.advanceAsync(700);
    const controller = new AbortController();
    const waiting = b.acquire({ requests: 1 }, { signal: controller.signal });
    await clock.advanceAsync(0);
    await settle();
    // Granted at 700 ms to start at 1,000: the window counts it already.
    expect((await store.status(b.config)).remaining).toEqual([-1]);
    controller.abort();
    await expect(waiting).rejects.toThrow();
    await clock.advanceAsync(300);
    await settle();
    await settle();
    expect((await store.status(b.config)).remaining).toEqual([1]);
    a.dispose();
    b.dispose();
  });

  it('in reject mode nothing is granted ahead: a request the window keeps out is refused at once', async () => {
    const { clock, store, a, b } = pair(
      { maxRequestsPerMinute: 1, algorithm: 'sliding-window', timeScale: 60, rejectOnLimit: true },
      { deferMs: 400 },
    );
    expect(b.config.deferMs).toBe(0);
    await a.acquire({ requests: 1 });
    await clock.advanceAsync(700); // 300 ms before the window lets another in
    await expect(b.acquire({ requests: 1 })).rejects.toSatisfy(ResourceLimitExceededError.is);
    expect((await store.status(b.config)).remaining).toEqual([0]);
    a.dispose();
    b.dispose();
  });

  it('renews the slots it holds, so a long task keeps its slot past the TTL', async () => {
    const { clock, a, b } = pair({ maxConcurrentTasks: 1 }, { slotTtlMs: 3_000 });
    const lease = await a.acquire({ task: 1 });
    let got = false;
    void b.acquire({ task: 1 }).then(() => (got = true));
    for (let t = 0; t < 10; t++) {
      await clock.advanceAsync(1_000);
      await settle();
    }
    expect(got).toBe(false);
    lease.release();
    await settle();
    await clock.advanceAsync(0);
    await settle();
    expect(got).toBe(true);
  });

  it('a cooldown set by one process holds back the others', async () => {
    const { clock, a, b } = pair({ maxRequestsPerMinute: 100 });
    a.cooldown(500, 'provider answered 429');
    await settle();
    let at: number | undefined;
    void b.acquire({ requests: 1 }).then(() => (at = clock.now()));
    for (let t = 0; t < 6; t++) {
      await clock.advanceAsync(100);
      await settle();
    }
    expect(at).toBe(500);
  });

  it('settles against the store: a refund from one process frees capacity for another', async () => {
    const { clock, a, b } = pair({ maxTokensPerMinute: 100, algorithm: 'sliding-window' });
    const lease = await a.acquire({ tokens: 90 });
    let got = false;
    void b.acquire({ tokens: 50 }).then(() => (got = true));
    await clock.advanceAsync(10);
    await settle();
    expect(got).toBe(false);
    lease.settle({ tokens: 40 });
    await settle();
    await clock.advanceAsync(0);
    await settle();
    expect(got).toBe(true);
    expect((await b.refresh()).remaining.tokensPerMinute).toBe(10);
  });

  it('times a waiter out after its wait timeout, also while the store is down', async () => {
    const { clock, a } = pair({ maxRequestsPerMinute: 1, algorithm: 'sliding-window' });
    await a.acquire({ requests: 1 });
    let error: unknown;
    void a.acquire({ requests: 1 }, { timeoutMs: 500 }).catch((e: unknown) => (error = e));
    await clock.advanceAsync(0);
    await settle();
    await clock.advanceAsync(499);
    expect(error).toBeUndefined();
    await clock.advanceAsync(1);
    expect(ResourceWaitTimeoutError.is(error)).toBe(true);

    const down = new FlakyStore(clock);
    down.down = true;
    const g = new DistributedGovernor(
      { maxRequestsPerMinute: 10 },
      { store: down, quota: 'q', clock, retryMs: 100 },
    );
    let downError: unknown;
    void g.acquire({ requests: 1 }, { timeoutMs: 300 }).catch((e: unknown) => (downError = e));
    for (let t = 0; t < 5; t++) {
      await clock.advanceAsync(100);
      await settle();
    }
    expect(ResourceWaitTimeoutError.is(downError)).toBe(true);
    g.dispose();
  });

  it('rejects at once in reject mode, and a cost no limit can grant in any mode', async () => {
    const { a } = pair({ maxRequestsPerMinute: 1, rejectOnLimit: true });
    await a.acquire({ requests: 1 });
    await expect(a.acquire({ requests: 1 })).rejects.toSatisfy(ResourceLimitExceededError.is);
    await expect(a.acquire({ requests: 2 })).rejects.toThrow(/more than its capacity of 1/);
  });

  it('counts a held reservation from its endHold, for every process, and a later settle keeps that', async () => {
    const { clock, a, b } = pair({ maxRequestsPerMinute: 1, algorithm: 'sliding-window', timeScale: 60 });
    const lease = await a.acquire({ requests: 1 }, { holdUntilSettled: true });
    let next = 0;
    void b.acquire({ requests: 1 }).then(() => (next = clock.now()));
    await clock.advanceAsync(2_000); // held: the window does not move while the call is in flight
    await settle();
    expect(next).toBe(0);
    lease.endHold(); // the reply started at t = 2000
    lease.endHold(); // idempotent
    await clock.advanceAsync(500);
    lease.settle({ requests: 1 }); // the reply ended at t = 2500: the window still counts from 2000
    for (let t = 0; t < 600 && next === 0; t += 10) {
      await clock.advanceAsync(10);
      await settle();
    }
    expect(next).toBe(3_000);
    lease.release();
  });

  it('checks every option at the boundary, naming the option, what it expects and the value', () => {
    const store = new MemoryQuotaStore(new ManualClock());
    const bad: [Partial<DistributedGovernorOptions>, string][] = [
      [{ batchSize: 0 }, 'DistributedGovernor.batchSize'],
      [{ batchSize: 1.5 }, 'DistributedGovernor.batchSize'],
      [{ slotTtlMs: -1 }, 'DistributedGovernor.slotTtlMs'],
      [{ slotTtlMs: 2 ** 31 }, 'DistributedGovernor.slotTtlMs'],
      [{ holdTtlMs: Number.NaN }, 'DistributedGovernor.holdTtlMs'],
      [{ recoveryHoldMs: -5 }, 'DistributedGovernor.recoveryHoldMs'],
      [{ retryMs: 0 }, 'DistributedGovernor.retryMs'],
      [{ jitterMs: -5 }, 'DistributedGovernor.jitterMs'],
      [{ deferMs: -1 }, 'DistributedGovernor.deferMs'],
      [{ deferMs: 60_001 }, 'DistributedGovernor.deferMs'],
      [{ localShare: 1.5 }, 'DistributedGovernor.localShare'],
      [{ onStoreDown: 'fail-shut' as never }, 'DistributedGovernor.onStoreDown'],
      [{ quota: 'a{b}' }, 'DistributedGovernor.quota'],
      [{ quota: undefined as never }, 'DistributedGovernor.quota'],
      [{ store: {} as never }, 'DistributedGovernor.store'],
      [{ clock: { now: () => 0 } as never }, 'DistributedGovernor.clock'],
      [{ random: 0.5 as never }, 'DistributedGovernor.random'],
      [{ memoryProbe: {} as never }, 'DistributedGovernor.memoryProbe'],
    ];
    for (const [options, field] of bad) {
      const error = (() => {
        try {
          new DistributedGovernor({}, { store, quota: 'q', ...options });
        } catch (e) {
          return e;
        }
      })();
      expect(error, field).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).message, field).toContain(field);
    }
    expect(() => new MemoryQuotaStore({} as never)).toThrow(InvalidArgumentError);
    expect(() => new RedisQuotaStore({} as never)).toThrow(InvalidArgumentError);
    expect(() => new RedisQuotaStore(fakeRedis(), { commandTimeoutMs: 0 })).toThrow(
      'RedisQuotaStore.commandTimeoutMs',
    );
    expect(() => new RedisQuotaStore(fakeRedis(), { prefix: 'a{' })).toThrow('RedisQuotaStore.prefix');
  });

  it('never arms a timer past 2^31-1 ms (Node would fire it at once): a 30-day cooldown waits in steps', async () => {
    const { clock, a } = pair({ maxRequestsPerMinute: 10 });
    const delays: number[] = [];
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => {
      delays.push(ms);
      return setTimeout(fn, ms);
    };
    a.cooldown(30 * 24 * 3_600_000);
    const waiting = a.acquire({ requests: 1 }, { timeoutMs: Number.POSITIVE_INFINITY });
    await clock.advanceAsync(0);
    await settle();
    expect(a.queued).toBe(1);
    expect(delays.length).toBeGreaterThan(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(2 ** 31 - 1);
    a.dispose();
    await expect(waiting).rejects.toMatchObject({ code: 'DISPOSED' });
  });

  it('enforces maxMemoryMb per process with the memory probe, for waiters that need a slot', async () => {
    const probe = new StaticMemoryProbe(300, 100);
    const { clock, a } = pair({ maxConcurrentTasks: 4, maxMemoryMb: 256 }, { memoryProbe: probe });
    expect(a.checkResourceAvailability({ task: 1 })).toMatchObject({
      available: false,
      reason: 'memory: 300 MB in use, cap 256 MB',
      memoryUsageMb: 300,
      memoryLimitMb: 256,
    });
    const rateOnly = await a.acquire({ requests: 1 }); // no slot: memory does not hold it back
    rateOnly.release();
    let got = false;
    void a.acquire({ task: 1 }).then(() => (got = true));
    await clock.advanceAsync(1_000);
    await settle();
    expect(got).toBe(false);
    probe.mb = 200;
    await clock.advanceAsync(100);
    await settle();
    await clock.advanceAsync(0);
    expect(got).toBe(true);
    const { a: strict } = pair(
      { maxConcurrentTasks: 4, maxMemoryMb: 256, rejectOnLimit: true },
      { memoryProbe: new StaticMemoryProbe(300) },
    );
    await expect(strict.acquire({ task: 1 })).rejects.toMatchObject({ limit: 'memory' });
  });

  it('reads costs and names limits exactly as the in-process governor does', async () => {
    const limits: ResourceLimits = { maxConcurrentTasks: 1, maxRequestsPerMinute: 5, rejectOnLimit: true };
    const { a } = pair(limits);
    const local = new ResourceGovernor(limits, { clock: new ManualClock() });
    for (const bad of [{ requests: -1 }, { tokens: Number.NaN }, { task: 1.5 }, { toolCalls: 'x' }]) {
      const theirs = await local.acquire(bad as never).catch((e: unknown) => e);
      const ours = await a.acquire(bad as never).catch((e: unknown) => e);
      expect(ours).toBeInstanceOf(InvalidArgumentError);
      expect((ours as Error).message).toBe((theirs as Error).message);
    }
    for (const never of [{ task: 2 }, { requests: 6 }]) {
      const theirs = (await local.acquire(never).catch((e: unknown) => e)) as ResourceLimitExceededError;
      const ours = (await a.acquire(never).catch((e: unknown) => e)) as ResourceLimitExceededError;
      expect({ limit: ours.limit, reason: ours.reason }).toEqual({
        limit: theirs.limit,
        reason: theirs.reason,
      });
    }
    // Slots used up: the store says 'slots', the error says the limit's name.
    await a.acquire({ task: 1 });
    await expect(a.acquire({ task: 1 })).rejects.toMatchObject({ limit: 'concurrentTasks' });
    local.dispose();
  });

  describe('when the store is down', () => {
    it('fail-closed: waits, says so, and resumes when the store is back', async () => {
      const clock = new ManualClock();
      const store = new FlakyStore(clock);
      const events: GovernorEvent[] = [];
      const g = new DistributedGovernor(
        { maxRequestsPerMinute: 10 },
        { store, quota: 'q', clock, retryMs: 200, jitterMs: 0 },
      );
      g.events$.subscribe((e) => events.push(e));
      store.down = true;
      let got = false;
      void g.acquire({ requests: 1 }).then(() => (got = true));
      await clock.advanceAsync(0);
      await settle();
      expect(g.storeDown).toBe(true);
      expect(g.checkResourceAvailability().reason).toMatch(/unavailable/);
      await clock.advanceAsync(1_000);
      await settle();
      expect(got).toBe(false);
      store.down = false;
      for (let t = 0; t < 5 && !got; t++) {
        await clock.advanceAsync(200);
        await settle();
      }
      expect(got).toBe(true);
      expect(events.map((e) => e.type)).toEqual(
        expect.arrayContaining(['store-unavailable', 'store-recovered', 'acquired']),
      );
    });

    it('fail-closed in reject mode fails with the typed error', async () => {
      const clock = new ManualClock();
      const store = new FlakyStore(clock);
      store.down = true;
      const g = new DistributedGovernor(
        { maxRequestsPerMinute: 10, rejectOnLimit: true },
        { store, quota: 'q', clock },
      );
      await expect(g.acquire({ requests: 1 })).rejects.toSatisfy(StoreUnavailableError.is);
    });

    it('fail-open admits everyone and emits what it did', async () => {
      const clock = new ManualClock();
      const store = new FlakyStore(clock);
      store.down = true;
      const g = new DistributedGovernor(
        { maxRequestsPerMinute: 1 },
        { store, quota: 'q', clock, onStoreDown: 'fail-open' },
      );
      const events: GovernorEvent[] = [];
      g.events$.subscribe((e) => events.push(e));
      await Promise.all([g.acquire({ requests: 1 }), g.acquire({ requests: 1 }), g.acquire({ requests: 1 })]);
      expect(events.filter((e) => e.type === 'would-block')).toHaveLength(3);
    });

    it('local-fallback enforces its share of each limit in this process', async () => {
      const clock = new ManualClock();
      const store = new FlakyStore(clock);
      store.down = true;
      const g = new DistributedGovernor(
        { maxRequestsPerMinute: 8, algorithm: 'sliding-window' },
        { store, quota: 'q', clock, onStoreDown: 'local-fallback', localShare: 0.25 },
      );
      const granted: number[] = [];
      for (let i = 0; i < 3; i++) void g.acquire({ requests: 1 }).then(() => granted.push(clock.now()));
      await clock.advanceAsync(0);
      await settle();
      await clock.advanceAsync(0);
      expect(granted).toEqual([0, 0]); // 8 x 0.25 = 2 per minute while the store is down
      for (let t = 0; t < 60 && granted.length < 3; t++) {
        await clock.advanceAsync(1_000);
        await settle();
      }
      expect(granted).toEqual([0, 0, 60_000]);
    });

    it("local-fallback honours each caller's signal, timeout and priority, with a timer for every waiter", async () => {
      const clock = new ManualClock();
      const store = new FlakyStore(clock);
      const g = new DistributedGovernor(
        { maxConcurrentTasks: 4, resourceWaitTimeoutSeconds: 5 },
        { store, quota: 'q', clock, onStoreDown: 'local-fallback', localShare: 0.25, retryMs: 1_000_000 },
      );
      const stored = await g.acquire({ task: 1 });
      store.down = true;
      const first = await g.acquire({ task: 1 }); // the local share: max(1, floor(4 x 0.25)) = 1 slot
      expect((first as DistributedLease).local).toBeDefined();
      const controller = new AbortController();
      const outcome = (p: Promise<unknown>) =>
        p.then(
          () => `granted at ${clock.now()}`,
          (e: Error) => `${e.name} at ${clock.now()}`,
        );
      const aborted = outcome(g.acquire({ task: 1 }, { signal: controller.signal }));
      const timedOut = outcome(g.acquire({ task: 1 }, { timeoutMs: 300 }));
      const order: string[] = [];
      const low = g.acquire({ task: 1 }, { priority: 0 }).then((l) => {
        order.push('low');
        return l;
      });
      const high = g.acquire({ task: 1 }, { priority: 5 }).then((l) => {
        order.push('high');
        l.release();
      });
      await clock.advanceAsync(200);
      controller.abort(new Error('caller gave up'));
      await clock.advanceAsync(100);
      expect(await aborted).toBe('AbortError at 200');
      expect(await timedOut).toBe('ResourceWaitTimeoutError at 300');
      first.release();
      await Promise.all([low, high]);
      expect(order).toEqual(['high', 'low']);
      (await low).release();
      stored.release();
      g.dispose();
    });

    it('local-fallback never lets store and local admissions together exceed a limit in a window, and the store counts what it admitted', async () => {
      const clock = new ManualClock();
      const store = new FlakyStore(clock);
      const g = new DistributedGovernor(
        { maxRequestsPerMinute: 8, algorithm: 'sliding-window', resourceWaitTimeoutSeconds: 300 },
        {
          store,
          quota: 'q',
          clock,
          onStoreDown: 'local-fallback',
          localShare: 0.25,
          retryMs: 500,
          jitterMs: 0,
        },
      );
      const admitted: number[] = [];
      const take = () => g.acquire({ requests: 1 }).then(() => admitted.push(clock.now()));
      await Promise.all(Array.from({ length: 8 }, take)); // the whole window, by the store, at 0
      await clock.advanceAsync(1_000);
      store.down = true;
      const local = Promise.all([take(), take()]);
      await clock.advanceAsync(0);
      await clock.advanceAsync(58_999); // 59,999 ms: the store's 8 still count
      expect(admitted).toHaveLength(8);
      await clock.advanceAsync(1_001); // 61,000 ms: a full window after the outage began
      await local;
      expect(admitted.slice(8)).toEqual([61_000, 61_000]);
      for (const t of admitted)
        expect(admitted.filter((u) => u >= t && u < t + 60_000).length).toBeLessThanOrEqual(8);
      store.down = false;
      await clock.advanceAsync(500); // the probe finds the store back; the 2 local admissions are charged to it
      await settle();
      expect(g.storeDown).toBe(false);
      expect((await store.status(g.config)).remaining[0]).toBe(6);
      g.dispose();
    });
  });

  it('keeps every window and gives everything back, whatever two processes do (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(
          fc.oneof(
            {
              weight: 4,
              arbitrary: fc.record({
                kind: fc.constant('acquire' as const),
                who: fc.constantFrom('a', 'b'),
                requests: fc.integer({ min: 0, max: 2 }),
                task: fc.boolean(),
                held: fc.boolean(),
              }),
            },
            {
              weight: 2,
              arbitrary: fc.record({
                kind: fc.constant('advance' as const),
                ms: fc.integer({ min: 0, max: 700 }),
              }),
            },
            {
              weight: 1,
              arbitrary: fc.record({
                kind: fc.constant('settle' as const),
                pick: fc.nat(),
                keep: fc.boolean(),
              }),
            },
            { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
          ),
          { minLength: 10, maxLength: 40 },
        ),
        async (rpm, ops) => {
          const { clock, a, b } = pair({
            maxRequestsPerMinute: rpm,
            maxConcurrentTasks: 2,
            algorithm: 'sliding-window',
            timeScale: 60,
            resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
          });
          const leases: DistributedLease[] = [];
          const zeroed = new Set<DistributedLease>();
          const admissions: { at: number; lease: DistributedLease }[] = [];
          const pending: Promise<unknown>[] = [];
          let outcomes = 0;
          for (const op of ops) {
            if (op.kind === 'acquire') {
              const g = op.who === 'a' ? a : b;
              pending.push(
                g.acquire({ requests: op.requests, task: op.task }, { holdUntilSettled: op.held }).then(
                  (lease) => {
                    outcomes++;
                    const l = lease as DistributedLease;
                    leases.push(l);
                    if (op.requests > 0) admissions.push({ at: l.admittedAt!, lease: l });
                  },
                  (error: unknown) => {
                    outcomes++;
                    expect(TollgateError.is(error)).toBe(true);
                  },
                ),
              );
            } else if (op.kind === 'advance') {
              await clock.advanceAsync(op.ms);
            } else {
              const lease = leases[op.pick % Math.max(1, leases.length)];
              if (lease && op.kind === 'settle') {
                if (!lease.settled && !op.keep) zeroed.add(lease);
                lease.settle({ requests: op.keep ? lease.amounts[0] : 0 });
              }
              if (lease && op.kind === 'release') lease.release();
            }
            await settle();
            expect(a.activeTasks + b.activeTasks).toBeLessThanOrEqual(2);
          }
          for (let round = 0; round < 100 && outcomes < pending.length; round++) {
            for (const l of leases) l.release();
            await clock.advanceAsync(500);
            await settle();
          }
          expect(outcomes).toBe(pending.length);
          for (const l of leases) l.release();
          // No window of 1 s ever held more than the limit (a refund to 0 removes an admission).
          const counted = admissions.filter((x) => !zeroed.has(x.lease));
          for (const x of counted) {
            const load = counted.filter((y) => y.at >= x.at && y.at < x.at + 1_000).length;
            expect(load).toBeLessThanOrEqual(rpm);
          }
          await clock.advanceAsync(2_000);
          await settle();
          const status = await a.refresh();
          expect(status.remaining.requestsPerMinute).toBe(rpm);
          expect(a.activeTasks + b.activeTasks).toBe(0);
          a.dispose();
          b.dispose();
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('DistributedGovernor when store calls fail or hang', () => {
  /** A memory store whose acquires fail as a failing Redis script does, or never answer. */
  class TroubledStore extends MemoryQuotaStore {
    mode: 'ok' | 'script-error' | 'hang' = 'ok';
    acquires = 0;
    override async acquire(...args: Parameters<MemoryQuotaStore['acquire']>) {
      this.acquires++;
      if (this.mode === 'script-error')
        throw Object.assign(new Error('OOM command not allowed'), { name: 'ReplyError' });
      if (this.mode === 'hang') return new Promise<never>(() => {});
      return super.acquire(...args);
    }
  }

  it.each(['fail-open', 'local-fallback', 'fail-closed'] as const)(
    'a store answering with a script error is retried every retryMs under %s, and the waiter times out on time',
    async (onStoreDown) => {
      const clock = new ManualClock();
      const store = new TroubledStore(clock);
      store.mode = 'script-error';
      const governor = new DistributedGovernor(
        { maxRequestsPerMinute: 10, resourceWaitTimeoutSeconds: 3 },
        { store, quota: 'q', clock, jitterMs: 0, retryMs: 200, onStoreDown },
      );
      let outcome: unknown;
      governor.acquire({ requests: 1 }).then(
        () => (outcome = 'granted'),
        (e: unknown) => (outcome = e),
      );
      for (let t = 0; t < 3_000; t += 100) await clock.advanceAsync(100);
      await settle();
      expect(ResourceWaitTimeoutError.is(outcome), String(outcome)).toBe(true);
      expect(store.acquires).toBeGreaterThanOrEqual(10);
      expect(store.acquires).toBeLessThanOrEqual(17); // one try per 200 ms, not a busy loop
      governor.dispose();
    },
  );

  it('a waiter whose timeout ends while a store call hangs hears at its deadline', async () => {
    const clock = new ManualClock();
    const store = new TroubledStore(clock);
    store.mode = 'hang';
    const governor = new DistributedGovernor(
      { maxRequestsPerMinute: 10 },
      { store, quota: 'q', clock, jitterMs: 0 },
    );
    let outcome: unknown;
    governor.acquire({ requests: 1 }, { timeoutMs: 500 }).then(
      () => (outcome = 'granted'),
      (e: unknown) => (outcome = e),
    );
    await clock.advanceAsync(499);
    expect(outcome).toBeUndefined();
    await clock.advanceAsync(1);
    await settle();
    expect(ResourceWaitTimeoutError.is(outcome), String(outcome)).toBe(true);
    governor.dispose();
  });
});
