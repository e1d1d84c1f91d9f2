import { ResourceWaitTimeoutError } from '@tollgate/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RateAlgorithm, ResourceLimits } from '../config/ResourceLimits.js';
import type { DistributedGovernor } from '../store/DistributedGovernor.js';
import {
  type ContractHarness,
  inProcessBackend,
  memoryStoreBackend,
} from '../test-support/governorContract.js';
import { livenessProblem } from '../test-support/liveness.js';
import type { GovernorLease } from './Governor.js';

/** A minute of `timeScale: 6` is 10 s: 20 simulated minutes are 120 windows. */
const WINDOW_MS = 10_000;
const RUN_MS = 20 * 60_000;
const STEP_MS = 1_000;

interface Backend {
  readonly name: string;
  make(limits: ResourceLimits): Promise<ContractHarness>;
  /** Whether all of `limit` is available again (asks the store where there is one). */
  remaining(h: ContractHarness): Promise<number>;
}

const backends: Backend[] = [
  {
    ...inProcessBackend,
    remaining: async (h) => h.governor.checkResourceAvailability().remaining.requestsPerMinute!,
  },
  {
    ...memoryStoreBackend,
    remaining: async (h) =>
      (await (h.governor as DistributedGovernor).refresh()).remaining.requestsPerMinute!,
  },
];

/** A small seeded generator, so one fast-check seed replays one whole workload. */
function random(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

/** Largest weight in any half-open window [t, t + windowMs) of the log (sorted by time). */
function maxInWindow(log: ReadonlyArray<{ at: number; weight: number }>, windowMs: number): number {
  let max = 0;
  let sum = 0;
  let first = 0;
  for (const entry of log) {
    sum += entry.weight;
    while (log[first]!.at <= entry.at - windowMs) sum -= log[first++]!.weight;
    max = Math.max(max, sum);
  }
  return max;
}

/**
 * Bursty arrivals with random priorities, holds, refunds, aborts and wait timeouts over 20
 * simulated minutes; the liveness invariant after every step. Returns what the checks need.
 */
async function sustainedLoad(h: ContractHarness, rnd: () => number, limit: number) {
  const g = h.governor;
  const log: { at: number; weight: number }[] = [];
  const held: { lease: GovernorLease; until: number; entry: { weight: number } }[] = [];
  const pending = new Set<{ abort?: AbortController; abortAt: number }>();
  let asked = 0;
  let settled = 0;
  let timedOut = 0;
  let aborted = 0;
  const acquire = () => {
    asked++;
    const abort = rnd() < 0.1 ? new AbortController() : undefined;
    const ticket = { abortAt: h.now() + rnd() * 30_000, ...(abort ? { abort } : {}) };
    pending.add(ticket);
    const withTimeout = rnd() < 0.3;
    g.acquire(
      { requests: 1, task: rnd() < 0.5 },
      {
        priority: Math.floor(rnd() * 3),
        ...(withTimeout ? { timeoutMs: 1_000 + Math.floor(rnd() * 60_000) } : {}),
        ...(abort ? { signal: abort.signal } : {}),
      },
    ).then(
      (lease) => {
        pending.delete(ticket);
        settled++;
        const entry = { at: h.now(), weight: 1 };
        log.push(entry);
        held.push({ lease, until: h.now() + Math.floor(rnd() * 4_000), entry });
      },
      (error: unknown) => {
        pending.delete(ticket);
        settled++;
        if (ResourceWaitTimeoutError.is(error)) timedOut++;
        else aborted++;
      },
    );
  };
  for (let t = 0; t < RUN_MS; t += STEP_MS) {
    const burst = rnd() < 0.08 ? 20 + Math.floor(rnd() * 100) : Math.floor(rnd() * 3);
    for (let i = 0; i < burst; i++) acquire();
    for (const ticket of pending) if (ticket.abort && ticket.abortAt <= h.now()) ticket.abort.abort();
    for (let i = held.length - 1; i >= 0; i--) {
      const { lease, until, entry } = held[i]!;
      if (until > h.now()) continue;
      held.splice(i, 1);
      // One call in ten failed before reaching the provider: refunded, it never counted.
      if (rnd() < 0.1) entry.weight = 0;
      lease.settle({ requests: entry.weight });
      lease.release();
    }
    await h.advance(STEP_MS);
    expect(livenessProblem(g, h.now())).toBeUndefined();
  }
  // No more arrivals: everyone still waiting is served or gives up.
  for (
    let t = 0;
    t < (asked / limit + 10) * WINDOW_MS && (settled < asked || held.length > 0);
    t += STEP_MS
  ) {
    for (const { lease } of held.splice(0)) {
      lease.settle({ requests: 1 });
      lease.release();
    }
    await h.advance(STEP_MS);
    expect(livenessProblem(g, h.now())).toBeUndefined();
  }
  return { asked, settled, timedOut, aborted, log };
}

/** A backlog of `n` at once on an idle governor: when the last one gets in. */
async function drainBacklog(h: ContractHarness, n: number): Promise<number> {
  const start = h.now();
  let last = start;
  let granted = 0;
  for (let i = 0; i < n; i++)
    void h.governor.acquire({ requests: 1 }, { priority: i % 3 }).then((lease) => {
      granted++;
      last = h.now();
      lease.release();
    });
  while (granted < n) {
    await h.advance(STEP_MS);
    expect(livenessProblem(h.governor, h.now())).toBeUndefined();
  }
  return last - start;
}

/** When the last of `n` gets in on the exact schedule, from an idle start. */
function exactDrainMs(algorithm: RateAlgorithm, n: number, limit: number): number {
  return algorithm === 'sliding-window'
    ? Math.floor((n - 1) / limit) * WINDOW_MS
    : ((n - limit) * WINDOW_MS) / limit; // a full bucket of `limit`, then one every WINDOW_MS / limit
}

describe.each(backends)('$name under sustained load (long-run property)', (backend) => {
  it.each(['token-bucket', 'sliding-window'] as const)(
    '%s: every acquire ends, nothing stalls or exceeds its window, the backlog drains on schedule, all comes back',
    async (algorithm) => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 2 ** 31 - 1 }),
          fc.integer({ min: 30, max: 60 }),
          fc.integer({ min: 4, max: 40 }),
          async (seed, limit, maxConcurrentTasks) => {
            const h = await backend.make({
              maxRequestsPerMinute: limit,
              maxConcurrentTasks,
              algorithm,
              timeScale: 6,
              resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
            });
            try {
              const run = await sustainedLoad(h, random(seed), limit);
              expect(run.asked).toBeGreaterThanOrEqual(5_000);
              expect(run.settled).toBe(run.asked);
              expect(run.timedOut + run.aborted).toBeGreaterThan(0);
              const counted = run.log.filter((e) => e.weight > 0);
              if (algorithm === 'sliding-window')
                expect(maxInWindow(counted, WINDOW_MS)).toBeLessThanOrEqual(limit);
              else expect(maxInWindow(counted, WINDOW_MS)).toBeLessThanOrEqual(2 * limit);
              // All capacity comes back once a window has passed.
              await h.advance(2 * WINDOW_MS);
              expect(h.governor.activeTasks).toBe(0);
              expect(h.governor.queued).toBe(0);
              expect(await backend.remaining(h)).toBe(limit);
              // The backlog drains at the pace of the exact schedule, within 2%.
              const n = 20 * limit;
              const took = await drainBacklog(h, n);
              const exact = exactDrainMs(algorithm, n, limit);
              expect(took).toBeGreaterThanOrEqual(exact - 1);
              expect(took).toBeLessThanOrEqual(exact * 1.02 + STEP_MS);
            } finally {
              await h.close();
            }
          },
        ),
        { numRuns: 1 },
      );
    },
    30_000,
  );
});
