import { AsyncResource } from 'node:async_hooks';
import {
  AbortError,
  DisposedError,
  InvalidArgumentError,
  ManualClock,
  ResourceLimitExceededError,
  ResourceWaitTimeoutError,
  TaskTimeoutError,
} from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import type { ResourceLimits } from '../config/ResourceLimits.js';
import type { Governor, GovernorLease } from '../governor/Governor.js';
import { type Inspectable, livenessView } from '../governor/liveness.js';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';
import type { GovernorEvent } from '../governor/types.js';
import { DistributedGovernor } from '../store/DistributedGovernor.js';
import { MemoryQuotaStore } from '../store/MemoryQuotaStore.js';
import { livenessProblem } from './liveness.js';

/** One governor under test, with a way to let time pass. */
export interface ContractHarness {
  readonly governor: Governor & Inspectable;
  /** Every event it emitted. */
  readonly events: GovernorEvent[];
  /** Clock time, ms. */
  now(): number;
  /** Lets `ms` pass (a manual clock, or real time), then lets pending work finish. */
  advance(ms: number): Promise<void>;
  /** Lets pending work (store calls, promise callbacks) finish. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** A kind of governor the contract runs against. */
export interface ContractBackend {
  readonly name: string;
  make(limits: ResourceLimits): Promise<ContractHarness>;
}

/** A harness on a manual clock: time moves only when the test says. */
export function onManualClock(
  make: (clock: ManualClock) => Governor & Inspectable,
): Promise<ContractHarness> {
  const clock = new ManualClock();
  const governor = make(clock);
  const events: GovernorEvent[] = [];
  governor.events$.subscribe((e) => events.push(e));
  const flush = async () => {
    for (let i = 0; i < 4; i++) {
      await clock.advanceAsync(0);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  return Promise.resolve({
    governor,
    events,
    now: () => clock.now(),
    flush,
    advance: async (ms) => {
      await clock.advanceAsync(ms);
      await flush();
    },
    close: async () => governor.dispose(),
  });
}

/** `ResourceGovernor` on a manual clock. */
export const inProcessBackend: ContractBackend = {
  name: 'ResourceGovernor',
  make: (limits) => onManualClock((clock) => new ResourceGovernor(limits, { clock })),
};

/** `DistributedGovernor` on a `MemoryQuotaStore`, both on one manual clock. */
export const memoryStoreBackend: ContractBackend = {
  name: 'DistributedGovernor on MemoryQuotaStore',
  make: (limits) =>
    onManualClock(
      (clock) =>
        new DistributedGovernor(limits, {
          store: new MemoryQuotaStore(clock),
          quota: 'q',
          clock,
          jitterMs: 0,
        }),
    ),
};

/** A minute of `timeScale: 60`: 1 s, so windows pass quickly on real clocks too. */
const FAST = { timeScale: 60 } as const;

function outcome<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(state, { value, done: true }),
    (error: unknown) => Object.assign(state, { error, done: true }),
  );
  return state;
}

function expectLive(h: ContractHarness): void {
  expect(livenessProblem(h.governor, h.now())).toBeUndefined();
}

const ofType = <K extends GovernorEvent['type']>(h: ContractHarness, type: K) =>
  h.events.filter((e): e is Extract<GovernorEvent, { type: K }> => e.type === type);

/**
 * What every `Governor` does, whatever keeps its quota: the same order, modes, errors,
 * events and words.
 */
export function governorContract(backend: ContractBackend): void {
  const withGovernor = (limits: ResourceLimits, body: (h: ContractHarness) => Promise<void>) => async () => {
    const h = await backend.make(limits);
    try {
      await body(h);
    } finally {
      await h.close();
    }
  };

  describe(`Governor contract: ${backend.name}`, () => {
    it(
      'serves waiters for a slot in order, higher priority first, and stays live throughout',
      withGovernor({ maxConcurrentTasks: 1 }, async (h) => {
        const g = h.governor;
        const hold = await g.acquire({ task: 1 });
        const order: string[] = [];
        const take = (label: string, priority?: number) =>
          g.acquire({ task: 1 }, { label, ...(priority === undefined ? {} : { priority }) }).then((lease) => {
            order.push(label);
            lease.release();
          });
        const all = [take('a'), take('b'), take('c', 5), take('d', 5)];
        await h.flush();
        expect(g.queued).toBe(4);
        expectLive(h);
        hold.release();
        await Promise.all(all);
        expect(order).toEqual(['c', 'd', 'a', 'b']);
        expect(g.activeTasks).toBe(0);
      }),
    );

    it(
      'an aborted task keeps its slot while its work runs: until it stops, or stopGraceMs if it ignores its signal',
      withGovernor({ maxConcurrentTasks: 1 }, async (h) => {
        const g = h.governor;
        const controller = new AbortController();
        let stop: () => void = () => {};
        const polite = outcome(
          g.runTask(() => new Promise<void>((resolve) => (stop = resolve)), {
            signal: controller.signal,
          }),
        );
        await h.flush();
        controller.abort();
        await h.flush();
        expect(AbortError.is(polite.error)).toBe(true); // the caller hears at once
        expect(g.activeTasks).toBe(1); // the work has not stopped yet
        stop();
        await h.flush();
        expect(g.activeTasks).toBe(0);

        const deaf = new AbortController();
        const ignoring = outcome(
          g.runTask(() => new Promise<never>(() => {}), { signal: deaf.signal, stopGraceMs: 200 }),
        );
        await h.flush();
        deaf.abort();
        await h.flush();
        expect(AbortError.is(ignoring.error)).toBe(true);
        expect(g.activeTasks).toBe(1);
        await h.advance(200);
        expect(g.activeTasks).toBe(0);
      }),
    );

    it(
      'work a timed-out task goes on running gets nothing more: its acquires reject with the timeout',
      withGovernor({ maxConcurrentTasks: 1, maxRequestsPerMinute: 100 }, async (h) => {
        const g = h.governor;
        let later: Promise<unknown> | undefined;
        let resume: () => void = () => {};
        const task = outcome(
          g.runTask(
            async () => {
              await new Promise<void>((resolve) => (resume = resolve)); // ignores its signal
              later = g.acquire({ requests: 1 }).then(
                (lease) => lease,
                (error: unknown) => error,
              );
              await later;
            },
            { taskTimeoutMs: 100, stopGraceMs: 1_000 },
          ),
        );
        await h.flush();
        await h.advance(100);
        expect(TaskTimeoutError.is(task.error)).toBe(true);
        resume();
        await h.flush();
        expect(TaskTimeoutError.is(await later)).toBe(true);
        expect(g.checkResourceAvailability().remaining.requestsPerMinute).toBe(100);
        await h.flush();
        expect(g.activeTasks).toBe(0);
      }),
    );

    it(
      'reject mode refuses new work at once, with the same limit, reason and retryAfterMs in error and event',
      withGovernor(
        {
          maxConcurrentTasks: 1,
          maxRequestsPerMinute: 2,
          algorithm: 'sliding-window',
          rejectOnLimit: true,
          ...FAST,
        },
        async (h) => {
          const g = h.governor;
          const slot = await g.acquire({ task: 1 });
          const noSlot = (await g
            .acquire({ task: 1 })
            .catch((e: unknown) => e)) as ResourceLimitExceededError;
          expect(noSlot).toSatisfy(ResourceLimitExceededError.is);
          expect(noSlot).toMatchObject({
            limit: 'concurrentTasks',
            available: 0,
            retryAfterMs: undefined,
            reason: 'concurrentTasks: 1 of 1 slots in use',
          });
          await g.acquire({ requests: 2 });
          const noRequest = (await g
            .acquire({ requests: 1 })
            .catch((e: unknown) => e)) as ResourceLimitExceededError;
          expect(noRequest).toMatchObject({ limit: 'requestsPerMinute', requested: 1, available: 0 });
          expect(noRequest.reason).toMatch(/^requestsPerMinute: 1 requested, 0 available, fits in \d+ ms$/);
          expect(noRequest.retryAfterMs).toBeGreaterThan(0);
          expect(noRequest.retryAfterMs).toBeLessThanOrEqual(1_000);
          const never = (await g
            .acquire({ requests: 3 })
            .catch((e: unknown) => e)) as ResourceLimitExceededError;
          expect(never).toMatchObject({ limit: 'requestsPerMinute', retryAfterMs: Number.POSITIVE_INFINITY });
          const rejected = ofType(h, 'rejected');
          expect(rejected.map((e) => [e.limit, e.reason, e.retryAfterMs])).toEqual(
            [noSlot, noRequest, never].map((e) => [e.limit, e.reason, e.retryAfterMs]),
          );
          slot.release();
        },
      ),
    );

    it(
      "reject mode lets an admitted task's later acquires wait (bounded by the wait timeout); its first is refused",
      withGovernor({ maxRequestsPerMinute: 2, rejectOnLimit: true, ...FAST }, async (h) => {
        const g = h.governor;
        await g.acquire({ requests: 1 });
        const steps: string[] = [];
        // New work from outside any task, started from inside one.
        const fromOutside = AsyncResource.bind(() => g.acquire({ requests: 1 }));
        let outsider: unknown;
        const admitted = outcome(
          g.runTask(async () => {
            await g.acquire({ requests: 1 }); // fits: the task has started its work
            steps.push('first');
            const second = g.acquire({ requests: 1 }); // does not fit now: waits rather than wasting the work
            outsider = await fromOutside().catch((e: unknown) => e); // new work behind it: refused
            await second;
            steps.push('second');
            await g.acquire({ requests: 2 }, { timeoutMs: 100 }); // waits, and gives up in time
          }),
        );
        await h.flush();
        expect(steps).toEqual(['first']);
        expect(outsider).toSatisfy(ResourceLimitExceededError.is);
        expect(g.queued).toBe(1);
        expectLive(h);
        // New work is refused while the window is full, even behind the waiting task.
        const fresh = await g.runTask(() => g.acquire({ requests: 1 })).catch((e: unknown) => e);
        expect(fresh).toSatisfy(ResourceLimitExceededError.is);
        await expect(g.acquire({ requests: 1 })).rejects.toSatisfy(ResourceLimitExceededError.is);
        for (let waited = 0; waited < 1_500 && !admitted.done; waited += 100) await h.advance(100);
        expect(steps).toEqual(['first', 'second']);
        expect(admitted.error).toSatisfy(ResourceWaitTimeoutError.is);
        expect(g.queued).toBe(0);
      }),
    );

    it(
      'times a waiter out with ResourceWaitTimeoutError and a timeout event, and lets the next one in',
      withGovernor({ maxConcurrentTasks: 1 }, async (h) => {
        const g = h.governor;
        const hold = await g.acquire({ task: 1 });
        const first = outcome(g.acquire({ task: 1 }, { timeoutMs: 100, label: 'first' }));
        const second = g.acquire({ task: 1 }, { label: 'second' });
        await h.flush();
        expectLive(h);
        for (let waited = 0; waited < 1_000 && !first.done; waited += 50) await h.advance(50);
        expect(first.error).toSatisfy(ResourceWaitTimeoutError.is);
        expect(ofType(h, 'timeout')).toMatchObject([{ kind: 'wait', afterMs: 100, label: 'first' }]);
        expect(g.queued).toBe(1);
        hold.release();
        (await second).release();
        expect(g.queued).toBe(0);
      }),
    );

    it(
      'aborts every waiter sharing one signal with one listener on it, and frees their places',
      withGovernor({ maxConcurrentTasks: 1 }, async (h) => {
        const g = h.governor;
        const hold = await g.acquire({ task: 1 });
        const controller = new AbortController();
        let listeners = 0;
        const add = controller.signal.addEventListener.bind(controller.signal);
        controller.signal.addEventListener = ((...args: Parameters<typeof add>) => {
          listeners++;
          add(...args);
        }) as typeof add;
        const waiters = Array.from({ length: 2_000 }, () =>
          g.acquire({ task: 1 }, { signal: controller.signal }).catch((e: unknown) => e),
        );
        await h.flush();
        expect(g.queued).toBe(2_000);
        expect(listeners).toBe(1);
        controller.abort();
        const errors = await Promise.all(waiters);
        expect(errors.every((e) => AbortError.is(e))).toBe(true);
        expect(g.queued).toBe(0);
        expect(ofType(h, 'aborted')).toHaveLength(2_000);
        hold.release();
        (await g.acquire({ task: 1 })).release();
      }),
    );

    it(
      'frees the places of waiters that leave behind a head that stays blocked',
      withGovernor({ maxConcurrentTasks: 1 }, async (h) => {
        const g = h.governor;
        const hold = await g.acquire({ task: 1 });
        const head = g.acquire({ task: 1 });
        for (let i = 0; i < 3_000; i++) {
          const controller = new AbortController();
          const waiter = g.acquire({ task: 1 }, { signal: controller.signal }).catch((e: unknown) => e);
          controller.abort();
          expect(await waiter).toSatisfy(AbortError.is);
        }
        await h.flush();
        expect(g.queued).toBe(1);
        expect(g[livenessView]().footprint).toBeLessThan(64);
        expectLive(h);
        hold.release();
        (await head).release();
      }),
    );

    it(
      'dispose rejects every waiter with DisposedError and refuses new work',
      withGovernor({ maxConcurrentTasks: 1 }, async (h) => {
        const g = h.governor;
        const hold = await g.acquire({ task: 1 });
        const waiters = [g.acquire({ task: 1 }), g.acquire({ task: 1 }, { priority: 2 })].map((p) =>
          p.catch((e: unknown) => e),
        );
        await h.flush();
        g.dispose();
        for (const error of await Promise.all(waiters)) expect(error).toSatisfy(DisposedError.is);
        expect(g.disposed).toBe(true);
        expect(g.queued).toBe(0);
        await expect(g.acquire({ task: 1 })).rejects.toSatisfy(DisposedError.is);
        expect(() => hold.release()).not.toThrow();
        expectLive(h);
      }),
    );

    it(
      'settle and release count once',
      withGovernor(
        { maxConcurrentTasks: 1, maxTokensPerMinute: 100, algorithm: 'sliding-window', rejectOnLimit: true },
        async (h) => {
          const g = h.governor;
          const lease = await g.acquire({ task: 1, tokens: 50 });
          lease.settle({ tokens: 10 });
          lease.settle({ tokens: 100 }); // ignored
          lease.release();
          lease.release(); // ignored: one slot, freed once
          expect(lease).toMatchObject({ settled: true, released: true });
          expect(g.activeTasks).toBe(0);
          await h.flush();
          const next = await g.acquire({ task: 1, tokens: 90 }); // 10 used: 90 left
          await expect(g.acquire({ task: 1 })).rejects.toMatchObject({ limit: 'concurrentTasks' });
          await expect(g.acquire({ tokens: 1 })).rejects.toMatchObject({ limit: 'tokensPerMinute' });
          next.release();
        },
      ),
    );

    it(
      'a cooldown admits nobody until it ends; only one that extends it is news',
      withGovernor({ maxRequestsPerMinute: 100 }, async (h) => {
        const g = h.governor;
        g.cooldown(500, '429');
        g.cooldown(200, 'shorter');
        g.cooldown(800, 'longer');
        expect(ofType(h, 'cooldown').map((e) => [e.ms, e.reason])).toEqual([
          [500, '429'],
          [800, 'longer'],
        ]);
        expect(g.checkResourceAvailability().reason).toMatch(/^cooling down for \d+ ms \(longer\)$/);
        const start = h.now();
        let lease: GovernorLease | undefined;
        const waiting = g.acquire({ requests: 1 }).then((l) => {
          lease = l;
        });
        await h.flush();
        expectLive(h);
        for (let waited = 0; waited < 2_000 && !lease; waited += 100) await h.advance(100);
        await waiting;
        expect(h.now() - start).toBeGreaterThanOrEqual(800);
        expect(ofType(h, 'acquired').at(-1)!.waitedMs).toBeGreaterThanOrEqual(790);
      }),
    );

    it('takes at most 29 rate limits, the same bound everywhere', async () => {
      const rates = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ resource: `r${i}`, limit: 10, windowMs: 1_000 }));
      const ok = await backend.make({ rates: rates(29) });
      await ok.close();
      await expect((async () => backend.make({ rates: rates(30) }))()).rejects.toThrow(
        /`rates` to be at most 29 rate limits, got 30/,
      );
    });

    it(
      'rejects bad costs and per-call options with InvalidArgumentError naming them',
      withGovernor({ maxConcurrentTasks: 2, maxRequestsPerMinute: 10 }, async (h) => {
        const g = h.governor;
        const cases: [() => Promise<unknown>, string][] = [
          [() => g.acquire({ requests: -1 }), 'cost.requests'],
          [() => g.acquire({ tokens: Number.NaN }), 'cost.tokens'],
          [() => g.acquire({ task: 1.5 }), 'cost.task'],
          [() => g.acquire({ requests: 1 }, { timeoutMs: Number.NaN }), 'acquire.timeoutMs'],
          [() => g.acquire({ requests: 1 }, { timeoutMs: -1 }), 'acquire.timeoutMs'],
          [() => g.acquire({ requests: 1 }, { priority: Number.NaN }), 'acquire.priority'],
          [() => g.runTask(() => 'ran', { taskTimeoutMs: -1 }), 'runTask.taskTimeoutMs'],
          [() => g.runTask(() => 'ran', { taskTimeoutMs: Number.NaN }), 'runTask.taskTimeoutMs'],
          [() => g.runTask(() => 'ran', { priority: Number.NaN }), 'runTask.priority'],
          [() => g.waitForResources(Number.NaN), 'waitForResources.timeoutMs'],
        ];
        for (const [call, name] of cases) {
          const error = await call().catch((e: unknown) => e);
          expect(error).toSatisfy(InvalidArgumentError.is);
          expect((error as InvalidArgumentError).argument).toBe(name);
        }
        expect(g.activeTasks).toBe(0);
        expect(g.queued).toBe(0);
      }),
    );

    it(
      'shows no negative remaining or available after a debt, in status or errors',
      withGovernor(
        { maxTokensPerMinute: 100, algorithm: 'sliding-window', rejectOnLimit: true },
        async (h) => {
          const g = h.governor;
          const lease = await g.acquire({ tokens: 50 });
          lease.settle({ tokens: 300 }); // 200 over the limit: a debt
          lease.release();
          await h.flush();
          const error = (await g
            .acquire({ tokens: 1 })
            .catch((e: unknown) => e)) as ResourceLimitExceededError;
          expect(error).toMatchObject({ limit: 'tokensPerMinute', available: 0 });
          expect(error.reason).toMatch(/^tokensPerMinute: 1 requested, 0 available/);
          const status = g.checkResourceAvailability({ tokens: 1 });
          expect(status.remaining.tokensPerMinute).toBe(0);
          expect(status.limits.tokensPerMinute!.remaining).toBe(0);
          expect(status.reason).not.toMatch(/-\d/);
        },
      ),
    );

    it(
      'monitor mode never waits, and says what it would have limited',
      withGovernor({ maxConcurrentTasks: 1, maxRequestsPerMinute: 1, enforceLimits: false }, async (h) => {
        const g = h.governor;
        const leases = await Promise.all([g.acquire({ task: 1, requests: 1 }), g.acquire({ requests: 1 })]);
        expect(g.mode).toBe('monitor');
        expect(ofType(h, 'would-block').map((e) => e.limit)).toEqual(['requestsPerMinute']);
        for (const lease of leases) lease.release();
      }),
    );
  });
}
