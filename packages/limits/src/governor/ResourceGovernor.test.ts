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
import { StaticMemoryProbe } from '../memory/MemoryProbe.js';
import type { Lease } from './Lease.js';
import { livenessView } from './liveness.js';
import { ResourceGovernor } from './ResourceGovernor.js';
import type { GovernorEvent, ResourceGovernorOptions, ResourceStatus } from './types.js';

function setup(limits: ResourceLimits, options: ResourceGovernorOptions = {}) {
  const clock = new ManualClock();
  const governor = new ResourceGovernor(limits, { clock, name: 'test', ...options });
  const events: GovernorEvent[] = [];
  governor.events$.subscribe((e) => events.push(e));
  return { clock, governor, events };
}

/** Tracks a promise's outcome without awaiting it. */
function track<T>(promise: Promise<T>) {
  const state: { value?: T; error?: unknown; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(state, { value, done: true }),
    (error: unknown) => Object.assign(state, { error, done: true }),
  );
  return state;
}

const flush = () => new Promise<void>((r) => setImmediate(r));

describe('ResourceGovernor: reservation and settlement', () => {
  it('reserves from every applicable limit and settles refunds and shortfalls', async () => {
    const { governor } = setup({
      maxTokensPerMinute: 1000,
      maxTokensPerHour: 5000,
      maxRequestsPerMinute: 10,
    });
    const lease = await governor.acquire({ requests: 1, tokens: 800 });
    expect(governor.checkResourceAvailability().remaining).toEqual({
      requestsPerMinute: 9,
      tokensPerMinute: 200,
      tokensPerHour: 4200,
    });
    lease.settle({ tokens: 300 });
    expect(governor.checkResourceAvailability().remaining).toMatchObject({
      tokensPerMinute: 700,
      tokensPerHour: 4700,
    });
    lease.settle({ tokens: 10 }); // idempotent: only the first settle counts
    expect(governor.checkResourceAvailability().remaining.tokensPerMinute).toBe(700);
    const second = await governor.acquire({ tokens: 100 });
    second.settle({ tokens: 1500 }); // shortfall: into debt, which a status shows as nothing left
    expect(governor.checkResourceAvailability().remaining.tokensPerMinute).toBe(0);
    expect(governor.checkResourceAvailability().limits.tokensPerMinute!.remaining).toBe(0);
    expect(governor.remaining('tokens')).toBe(-800);
    const status = governor.checkResourceAvailability({ tokens: 1 });
    expect(status.reason).toMatch(/^tokensPerMinute: 1 requested, 0 available, fits in \d+ ms$/);
  });

  it('lets a debt delay later callers until it is paid back', async () => {
    const { governor, clock } = setup({ maxTokensPerMinute: 600, resourceWaitTimeoutSeconds: 1000 });
    const lease = await governor.acquire({ tokens: 600 });
    lease.settle({ tokens: 1200 }); // 600 in debt; refills 10 per second
    const next = track(governor.acquire({ tokens: 100 }));
    await clock.advanceAsync(69_000);
    expect(next.done).toBe(false);
    await clock.advanceAsync(1_000);
    expect(next.done).toBe(true);
  });

  it('charges a resource that was not reserved when the settlement reports it', async () => {
    const { governor } = setup({ maxToolCallsPerMinute: 10 });
    const lease = await governor.acquire({ requests: 1 });
    lease.settle({ toolCalls: 3 });
    expect(governor.checkResourceAvailability().remaining.toolCallsPerMinute).toBe(7);
  });

  it('rejects malformed costs and settlements with a typed error', async () => {
    const { governor } = setup({ maxTokensPerMinute: 100 });
    await expect(governor.acquire({ tokens: -1 })).rejects.toSatisfy(InvalidArgumentError.is);
    await expect(governor.acquire({ tokens: Number.NaN })).rejects.toThrow(/cost.tokens/);
    await expect(governor.acquire({ task: 1.5 })).rejects.toThrow(/cost.task/);
    const lease = await governor.acquire({ tokens: 10 });
    expect(() => lease.settle({ tokens: Number.POSITIVE_INFINITY })).toThrow(/actual.tokens/);
    expect(lease.settled).toBe(false);
  });

  it('fails at once, not retryable, for a cost larger than any limit can ever grant', async () => {
    const { governor, events } = setup({
      maxTokensPerMinute: 1000,
      tokenBurstSize: 1500,
      maxConcurrentTasks: 2,
    });
    const error = await governor.acquire({ tokens: 1501 }).catch((e: unknown) => e);
    expect(ResourceLimitExceededError.is(error)).toBe(true);
    expect(error).toMatchObject({
      limit: 'tokensPerMinute',
      requested: 1501,
      available: 1500,
      isRetryable: false,
    });
    expect((error as Error).message).toMatch(/can never fit/);
    await expect(governor.acquire({ task: 3 })).rejects.toMatchObject({ limit: 'concurrentTasks' });
    expect(events.filter((e) => e.type === 'rejected')).toHaveLength(2);
    expect(governor.queued).toBe(0);
  });
});

describe('ResourceGovernor: waiting', () => {
  it('waits exactly until a sliding window frees, with one timer for the queue', async () => {
    const { governor, clock } = setup({
      maxRequestsPerMinute: 2,
      algorithm: 'sliding-window',
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
    });
    await governor.acquire({ requests: 1 });
    await clock.advanceAsync(10_000);
    await governor.acquire({ requests: 1 });
    const third = track(governor.acquire({ requests: 1 }));
    const fourth = track(governor.acquire({ requests: 1 }));
    await flush();
    expect(clock.pendingTimers).toBe(1);
    await clock.advanceAsync(49_999);
    expect(third.done).toBe(false);
    await clock.advanceAsync(1);
    expect(third.done).toBe(true);
    expect(fourth.done).toBe(false);
    await clock.advanceAsync(10_000);
    expect(fourth.done).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('serves waiters for the same limits in FIFO order, by priority first when given', async () => {
    const { governor, clock } = setup({ maxConcurrentTasks: 1 });
    const first = await governor.acquire({ task: 1 });
    const order: string[] = [];
    const names = ['a', 'b', 'c', 'urgent'];
    const waits = names.map((name) =>
      governor.acquire({ task: 1 }, { priority: name === 'urgent' ? 5 : 0 }).then((lease) => {
        order.push(name);
        lease.release();
      }),
    );
    first.release();
    await Promise.all(waits);
    expect(order).toEqual(['urgent', 'a', 'b', 'c']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('does not let small requests starve a large one at the head of the queue', async () => {
    const { governor, clock } = setup({ maxTokensPerMinute: 600 }); // 10 tokens per second
    await governor.acquire({ tokens: 600 });
    const big = track(governor.acquire({ tokens: 500 }));
    const small = track(governor.acquire({ tokens: 10 }));
    await clock.advanceAsync(5_000); // 50 tokens back: enough for small, not for big
    expect(small.done).toBe(false);
    await clock.advanceAsync(45_000);
    expect(big.done).toBe(true);
    expect(small.done).toBe(false);
    await clock.advanceAsync(1_000);
    expect(small.done).toBe(true);
  });

  it('lets a call that needs no slot pass a task waiting for one (no deadlock in one governor)', async () => {
    const { governor } = setup({ maxConcurrentTasks: 1, maxRequestsPerMinute: 100 });
    const running = await governor.acquire({ task: 1 });
    const newTask = track(governor.acquire({ task: 1 }));
    // The running task's LLM call must not queue behind the task that waits for its slot.
    const call = await governor.acquire({ requests: 1 });
    expect(call).toBeDefined();
    expect(newTask.done).toBe(false);
    running.release();
    await flush();
    expect(newTask.done).toBe(true);
  });

  it('times out a waiter with ResourceWaitTimeoutError and frees its place', async () => {
    const { governor, clock, events } = setup({ maxConcurrentTasks: 1, resourceWaitTimeoutSeconds: 2 });
    const held = await governor.acquire({ task: 1 });
    const waiting = track(governor.acquire({ task: 1 }));
    await clock.advanceAsync(2_000);
    expect(ResourceWaitTimeoutError.is(waiting.error)).toBe(true);
    expect((waiting.error as ResourceWaitTimeoutError).reason).toMatch(/concurrentTasks/);
    expect(governor.queued).toBe(0);
    expect(events.some((e) => e.type === 'timeout' && e.kind === 'wait')).toBe(true);
    held.release();
    expect(governor.activeTasks).toBe(0);
    // A per-call timeout overrides the limits' one.
    const held2 = await governor.acquire({ task: 1 });
    const short = track(governor.acquire({ task: 1 }, { timeoutMs: 10 }));
    await clock.advanceAsync(10);
    expect(ResourceWaitTimeoutError.is(short.error)).toBe(true);
    held2.release();
  });

  it('removes an aborted waiter, rejects with AbortError and lets the next one in', async () => {
    const { governor, clock } = setup({ maxRequestsPerMinute: 1, algorithm: 'sliding-window' });
    await governor.acquire({ requests: 1 });
    const controller = new AbortController();
    const aborted = track(governor.acquire({ requests: 1 }, { signal: controller.signal }));
    const next = track(governor.acquire({ requests: 1 }));
    controller.abort('user cancelled');
    await flush();
    expect(AbortError.is(aborted.error)).toBe(true);
    expect((aborted.error as AbortError).cause).toBe('user cancelled');
    await clock.advanceAsync(60_000);
    expect(next.done).toBe(true);
    expect(governor.checkResourceAvailability().remaining.requestsPerMinute).toBe(0);
    // An already aborted signal rejects without queueing.
    await expect(governor.acquire({ requests: 1 }, { signal: AbortSignal.abort() })).rejects.toSatisfy(
      AbortError.is,
    );
  });

  it('keeps admitting at the window pace under bursty arrivals, thousands of admissions on (no stall)', async () => {
    for (const algorithm of ['sliding-window', 'token-bucket'] as const) {
      const { clock, governor } = setup({
        maxRequestsPerMinute: 100,
        algorithm,
        resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
      });
      let seed = 7;
      const rnd = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed / 0x7fffffff;
      };
      let asked = 0;
      let admitted = 0;
      for (let t = 0; t < 600_000; t += 500) {
        const burst = rnd() < 0.1 ? Math.floor(rnd() * 60) : rnd() < 0.5 ? 1 : 0;
        for (let i = 0; i < burst; i++) {
          asked++;
          void governor.acquire({ requests: 1 }).then((lease) => {
            admitted++;
            lease.release();
          });
        }
        await clock.advanceAsync(500);
      }
      // 100 a minute: the backlog drains within a minute or two of its schedule.
      await clock.advanceAsync(Math.ceil(asked / 100 + 2) * 60_000 - clock.now());
      expect(admitted).toBe(asked);
      expect(governor.queued).toBe(0);
    }
  });

  it('frees granted waiters behind a head blocked for a long time (memory follows the live waiters)', async () => {
    const { clock, governor } = setup({
      maxConcurrentTasks: 1,
      maxRequestsPerMinute: 1,
      algorithm: 'sliding-window',
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
    });
    const slot = await governor.acquire({ task: 1 });
    const nextTask = governor.acquire({ task: 1 }); // the head, until the slot frees
    await governor.acquire({ requests: 1 }); // the window is full: every call below waits
    for (let i = 0; i < 2_000; i++) {
      const call = governor.acquire({ requests: 1 }); // the running task's calls, one a minute
      await clock.advanceAsync(60_000);
      (await call).release();
    }
    expect(governor.queued).toBe(1);
    expect(governor[livenessView]().footprint).toBeLessThan(64);
    slot.release();
    (await nextTask).release();
  });

  it('tryAcquire never waits and never jumps the queue', async () => {
    const { governor } = setup({ maxConcurrentTasks: 1 });
    const lease = governor.tryAcquire({ task: 1 });
    expect(lease).toBeDefined();
    expect(governor.tryAcquire({ task: 1 })).toBeUndefined();
    const waiting = track(governor.acquire({ task: 1 }));
    lease!.release();
    expect(governor.tryAcquire({ task: 1 })).toBeUndefined(); // the waiter was first
    await flush();
    expect(waiting.done).toBe(true);
  });
});

describe('ResourceGovernor: modes', () => {
  it('reject mode fails at once with the limit, requested, available and retryAfterMs', async () => {
    const { governor } = setup({ maxRequestsPerMinute: 60, requestBurstSize: 2, rejectOnLimit: true });
    await governor.acquire({ requests: 2 });
    const error = await governor.acquire({ requests: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      limit: 'requestsPerMinute',
      requested: 1,
      available: 0,
      retryAfterMs: 1000,
      isRetryable: true,
    });
    expect(governor.queued).toBe(0);
  });

  it('monitor mode never blocks and reports what it would have limited', async () => {
    const { governor, events } = setup({
      maxConcurrentTasks: 1,
      maxTokensPerMinute: 100,
      enforceLimits: false,
    });
    const a = await governor.acquire({ task: 1, tokens: 100 });
    const b = await governor.acquire({ task: 1, tokens: 50 });
    expect(governor.activeTasks).toBe(2);
    const would = events.filter((e) => e.type === 'would-block');
    expect(would.map((e) => e.type === 'would-block' && e.limit)).toEqual(['concurrentTasks']);
    const c = await governor.acquire({ tokens: 50 });
    expect(events.filter((e) => e.type === 'would-block')).toHaveLength(2);
    expect(governor.checkResourceAvailability().mode).toBe('monitor');
    for (const lease of [a, b, c]) lease.release();
  });

  it('cooldown admits nobody until it ends, and only ever extends', async () => {
    const { governor, clock, events } = setup({ maxRequestsPerMinute: 100 });
    governor.cooldown(5_000, 'provider 429');
    governor.cooldown(1_000, 'shorter');
    const status = governor.checkResourceAvailability();
    expect(status).toMatchObject({ available: false, cooldownUntil: 5_000 });
    expect(status.reason).toMatch(/provider 429/);
    const waiting = track(governor.acquire({ requests: 1 }));
    await clock.advanceAsync(4_999);
    expect(waiting.done).toBe(false);
    await clock.advanceAsync(1);
    expect(waiting.done).toBe(true);
    expect(events.filter((e) => e.type === 'cooldown')).toHaveLength(1);
    expect(() => governor.cooldown(-1)).toThrow(InvalidArgumentError);
  });
});

describe('ResourceGovernor: tasks', () => {
  it('runTask holds a slot, passes a signal and releases however the task ends', async () => {
    const { governor } = setup({ maxConcurrentTasks: 1 });
    let seen = 0;
    await governor.runTask(async (signal) => {
      expect(signal.aborted).toBe(false);
      seen = governor.activeTasks;
    });
    expect(seen).toBe(1);
    expect(governor.activeTasks).toBe(0);
    await expect(governor.runTask(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      governor.runTask(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    expect(governor.activeTasks).toBe(0);
  });

  it('aborts a task after taskTimeoutSeconds with TaskTimeoutError, even if it ignores the signal; its slot comes back after the stop grace', async () => {
    const { governor, clock, events } = setup({ maxConcurrentTasks: 1, taskTimeoutSeconds: 3 });
    let reason: unknown;
    const task = track(
      governor.runTask(
        (signal) =>
          new Promise<never>(() => {
            signal.addEventListener('abort', () => {
              reason = signal.reason;
            });
          }),
      ),
    );
    await clock.advanceAsync(3_000);
    expect(TaskTimeoutError.is(task.error)).toBe(true);
    expect(TaskTimeoutError.is(reason)).toBe(true);
    expect(events.some((e) => e.type === 'timeout' && e.kind === 'task')).toBe(true);
    // The work still runs: it keeps its slot until it stops, at most the 5 s stop grace.
    expect(governor.activeTasks).toBe(1);
    await clock.advanceAsync(4_999);
    expect(governor.activeTasks).toBe(1);
    await clock.advanceAsync(1);
    expect(governor.activeTasks).toBe(0);
  });

  it('passes an outer abort to the task and releases its slot', async () => {
    const { governor } = setup({ maxConcurrentTasks: 1 });
    const controller = new AbortController();
    const task = governor.runTask(
      (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      {
        signal: controller.signal,
      },
    );
    controller.abort();
    await expect(task).rejects.toSatisfy(AbortError.is);
    expect(governor.activeTasks).toBe(0);
  });

  it('blocks new tasks over the memory cap without touching running ones', async () => {
    const probe = new StaticMemoryProbe(100, 250);
    const { governor, clock } = setup(
      { maxMemoryMb: 512, maxRequestsPerMinute: 100 },
      { memoryProbe: probe },
    );
    const running = await governor.acquire({ task: 1 });
    probe.mb = 600;
    expect(governor.checkResourceAvailability()).toMatchObject({
      available: false,
      memoryUsageMb: 600,
      memoryLimitMb: 512,
    });
    const next = track(governor.acquire({ task: 1 }));
    const call = await governor.acquire({ requests: 1 }); // not a new task: not gated
    expect(call).toBeDefined();
    await clock.advanceAsync(1_000);
    expect(next.done).toBe(false);
    probe.mb = 400;
    await clock.advanceAsync(250); // re-checked at the probe's refresh interval
    expect(next.done).toBe(true);
    expect(running.released).toBe(false);
  });

  it('rejects a new task over the memory cap in reject mode, naming memory', async () => {
    const probe = new StaticMemoryProbe(900);
    const { governor } = setup({ maxMemoryMb: 512, rejectOnLimit: true }, { memoryProbe: probe });
    await expect(governor.runTask(() => 1)).rejects.toMatchObject({ limit: 'memory' });
  });
});

describe('ResourceGovernor: observability', () => {
  it('checkResourceAvailability reports everything the seeds expect', async () => {
    const { governor } = setup({ maxConcurrentTasks: 2, maxTokensPerMinute: 1000 });
    await governor.acquire({ task: 1 });
    await governor.acquire({ task: 1 });
    const status = governor.checkResourceAvailability();
    expect(status).toMatchObject({
      governor: 'test',
      available: false,
      activeTasks: 2,
      maxTasks: 2,
      queued: 0,
      remaining: { tokensPerMinute: 1000 },
      memoryUsageMb: null,
      memoryLimitMb: null,
      cooldownUntil: null,
      mode: 'enforce',
    });
    expect(status.reason).toMatch(/concurrentTasks: 2 of 2 slots in use/);
    expect(status.limits.tokensPerMinute).toMatchObject({
      limit: 1000,
      windowMs: 60_000,
      algorithm: 'token-bucket',
    });
  });

  it('waitForResources resolves true when resources free, false on timeout, and takes nothing', async () => {
    const { governor, clock } = setup({ maxConcurrentTasks: 1 });
    expect(await governor.waitForResources(10)).toBe(true);
    const lease = await governor.acquire({ task: 1 });
    const timedOut = track(governor.waitForResources(100));
    await clock.advanceAsync(100);
    expect(timedOut.value).toBe(false);
    const freed = track(governor.waitForResources(1_000));
    lease.release();
    await flush();
    expect(freed.value).toBe(true);
    expect(governor.activeTasks).toBe(0);
  });

  it('status$ emits the current status on subscribe and after changes', async () => {
    const { governor } = setup({ maxConcurrentTasks: 2 });
    const seen: ResourceStatus[] = [];
    const sub = governor.status$.subscribe((s) => seen.push(s));
    expect(seen).toHaveLength(1);
    expect(seen[0]!.activeTasks).toBe(0);
    const lease = await governor.acquire({ task: 1 });
    await flush();
    expect(seen.at(-1)!.activeTasks).toBe(1);
    lease.release();
    await flush();
    expect(seen.at(-1)!.activeTasks).toBe(0);
    sub.unsubscribe();
  });

  it('emits queued, acquired (with wait), settled and released events, and limit-approaching at 80%', async () => {
    const { governor, clock, events } = setup({ maxTokensPerMinute: 1000 });
    const lease = await governor.acquire({ tokens: 850 }, { label: 'agent-1' });
    expect(events.map((e) => e.type)).toEqual(['acquired', 'limit-approaching']);
    expect(events[1]).toMatchObject({ limit: 'tokensPerMinute', ratio: 0.85 });
    lease.settle({ tokens: 500 });
    lease.release();
    const waiting = governor.acquire({ tokens: 900 });
    await clock.advanceAsync(24_000);
    await waiting;
    const types = events.map((e) => e.type);
    expect(types).toEqual([
      'acquired',
      'limit-approaching',
      'settled',
      'released',
      'queued',
      'acquired',
      'limit-approaching',
    ]);
    const acquired = events.filter((e) => e.type === 'acquired');
    expect(acquired[0]).toMatchObject({ label: 'agent-1', waitedMs: 0 });
    expect(acquired[1]).toMatchObject({ waitedMs: 24_000 });
  });

  it('stamps each acquired event with its grant time, however slow the listeners are', async () => {
    // Listeners that take time must not make grants look later than the window recorded them:
    // events are how outside checks count admissions per window.
    class LaggingClock extends ManualClock {
      lag = 0;
      override now(): number {
        return super.now() + this.lag;
      }
    }
    const clock = new LaggingClock();
    const governor = new ResourceGovernor(
      { maxRequestsPerMinute: 3, algorithm: 'sliding-window' },
      { clock, name: 'test' },
    );
    await Promise.all([1, 2, 3].map(() => governor.acquire({ requests: 1 }))); // all at 0
    const acquiredAt: number[] = [];
    governor.events$.subscribe((e) => {
      if (e.type !== 'acquired') return;
      acquiredAt.push(e.at);
      clock.lag += 1; // a listener that takes a millisecond
    });
    const waiting = [1, 2, 3].map(() => governor.acquire({ requests: 1 }));
    await clock.advanceAsync(60_000); // one wake admits all three waiters at one time
    const leases = await Promise.all(waiting);
    expect(leases.map((l) => l.acquiredAt)).toEqual([60_000, 60_000, 60_000]);
    expect(acquiredAt).toEqual([60_000, 60_000, 60_000]);
    expect(clock.now()).toBe(60_003);
  });

  it('dispose rejects waiters, stops the timer and refuses new work', async () => {
    const { governor, clock } = setup({
      maxRequestsPerMinute: 1,
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
    });
    const lease = await governor.acquire({ requests: 1, task: 1 });
    const waiting = governor.acquire({ requests: 1 });
    const probe = governor.waitForResources(1_000);
    await flush();
    governor.dispose();
    await expect(waiting).rejects.toSatisfy(DisposedError.is);
    expect(await probe).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    await expect(governor.acquire({ requests: 1 })).rejects.toSatisfy(DisposedError.is);
    expect(() => lease.release()).not.toThrow();
    expect(governor.activeTasks).toBe(0);
  });
});

it('leases expose what they hold', async () => {
  const { governor } = setup({ maxConcurrentTasks: 3 });
  const lease: Lease = await governor.acquire({ task: 2, requests: 1 });
  expect(lease).toMatchObject({ slots: 2, settled: false, released: false });
  lease.release();
  lease.release();
  expect(governor.activeTasks).toBe(0);
});

describe('ResourceGovernor: provider feedback', () => {
  it('remaining() reports the shortest window of a resource; lowerRemaining() only lowers it', () => {
    const { governor } = setup({ maxTokensPerMinute: 1000, maxTokensPerHour: 50_000 });
    expect(governor.remaining('tokens')).toBe(1000);
    expect(governor.remaining('requests')).toBeUndefined();
    governor.lowerRemaining('tokens', 300);
    governor.lowerRemaining('tokens', -5); // ignored
    expect(governor.checkResourceAvailability().remaining).toEqual({
      tokensPerMinute: 700,
      tokensPerHour: 50_000,
    });
  });

  it('pads every window by windowPaddingMs', async () => {
    const { governor, clock } = setup({
      maxRequestsPerMinute: 1,
      algorithm: 'sliding-window',
      timeScale: 60,
      windowPaddingMs: 50,
    });
    await governor.acquire({ requests: 1 });
    const next = track(governor.acquire({ requests: 1 }));
    await clock.advanceAsync(1000);
    expect(next.done).toBe(false);
    await clock.advanceAsync(50);
    expect(next.done).toBe(true);
  });
});

describe('ResourceGovernor: holdUntilSettled', () => {
  it('keeps a held reservation in its sliding window until settled, then counts a full window from then', async () => {
    const { governor, clock } = setup({ maxRequestsPerMinute: 1, algorithm: 'sliding-window' });
    const inFlight = await governor.acquire({ requests: 1 }, { holdUntilSettled: true });
    const next = track(governor.acquire({ requests: 1 }));
    await clock.advanceAsync(70_000); // the call outlives its window: still counted
    expect(next.done).toBe(false);
    expect(governor.remaining('requests')).toBe(0);
    inFlight.settle({ requests: 1 });
    await clock.advanceAsync(59_999);
    expect(next.done).toBe(false);
    await clock.advanceAsync(1);
    expect(next.done).toBe(true);
  });

  it('endHold counts the window from then; the later settle corrects amounts without moving it', async () => {
    const { governor, clock } = setup({ maxRequestsPerMinute: 1, algorithm: 'sliding-window' });
    const inFlight = await governor.acquire({ requests: 1 }, { holdUntilSettled: true });
    const next = track(governor.acquire({ requests: 1 }));
    await clock.advanceAsync(5_000);
    inFlight.endHold(); // the reply started: the provider has counted the call by now
    inFlight.endHold();
    await clock.advanceAsync(20_000);
    inFlight.settle({ requests: 1 }); // the reply ended
    await clock.advanceAsync(39_999); // t = 64,999
    expect(next.done).toBe(false);
    await clock.advanceAsync(1); // t = 65,000: one window after endHold (85,000 after the settle)
    expect(next.done).toBe(true);
    const plain = next.value as Lease;
    plain.endHold(); // holds nothing: nothing happens
    expect(governor.remaining('requests')).toBe(0);
  });

  it('ends the hold on release too, and refunds of held reservations still count', async () => {
    const { governor, clock } = setup({ maxTokensPerMinute: 100, algorithm: 'sliding-window' });
    const a = await governor.acquire({ tokens: 80 }, { holdUntilSettled: true });
    await clock.advanceAsync(61_000);
    a.settle({ tokens: 30 }); // refund while overdue
    expect(governor.remaining('tokens')).toBe(70);
    const b = await governor.acquire({ tokens: 50 }, { holdUntilSettled: true });
    await clock.advanceAsync(61_000);
    expect(governor.remaining('tokens')).toBe(50); // a (re-anchored at its settle) has left; b is held
    b.release();
    await clock.advanceAsync(60_000);
    expect(governor.remaining('tokens')).toBe(100);
  });
});
