import { ManualClock, TollgateError } from '@tollgate/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { livenessProblem } from '../test-support/liveness.js';
import type { Lease } from './Lease.js';
import { ResourceGovernor } from './ResourceGovernor.js';
import type { GovernorEvent } from './types.js';

type Op =
  | {
      kind: 'acquire';
      requests: number;
      tokens: number;
      task: boolean;
      timeoutMs: number;
      priority: number;
      held: boolean;
    }
  | { kind: 'advance'; ms: number }
  | { kind: 'settle'; pick: number; keep: number }
  | { kind: 'release'; pick: number }
  | { kind: 'endHold'; pick: number }
  | { kind: 'abort'; pick: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      requests: fc.integer({ min: 0, max: 2 }),
      tokens: fc.integer({ min: 0, max: 130 }),
      task: fc.boolean(),
      timeoutMs: fc.integer({ min: 1, max: 4000 }),
      priority: fc.constantFrom(0, 0, 0, 1),
      held: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 900 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      keep: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('endHold' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
);

const config = fc.record({
  maxConcurrentTasks: fc.integer({ min: 1, max: 3 }),
  rpm: fc.integer({ min: 1, max: 6 }),
  tpm: fc.integer({ min: 50, max: 120 }),
  algorithm: fc.constantFrom('sliding-window' as const, 'token-bucket' as const),
  rejectOnLimit: fc.boolean(),
});

interface Call {
  readonly index: number;
  readonly classKey: string;
  readonly controller: AbortController;
  outcome?: 'granted' | 'rejected';
  lease?: Lease;
  grantOrder?: number;
  settles: number;
}

/** The most weight admitted in any window of `spanMs`, from the event log. */
function maxWindowLoad(log: ReadonlyArray<{ at: number; amount: number }>, spanMs: number): number {
  // Entries carry integer times (the manual clock only moves in whole ms), so starting a window at
  // every entry and just after every entry covers every distinct window, refunds (negative) included.
  let max = 0;
  for (const at of log.flatMap((e) => [e.at, e.at + 1])) {
    let sum = 0;
    for (const e of log) if (e.at >= at && e.at < at + spanMs) sum += e.amount;
    max = Math.max(max, sum);
  }
  return max;
}

describe('ResourceGovernor properties (random schedules on a manual clock)', () => {
  it('never exceeds a limit or stalls, keeps FIFO per limit set, settles every acquire once and gives all capacity back', async () => {
    await fc.assert(
      fc.asyncProperty(config, fc.array(op, { minLength: 1, maxLength: 60 }), async (cfg, ops) => {
        const clock = new ManualClock();
        const windowMs = 1000; // a minute, time-compressed 60x
        const governor = new ResourceGovernor(
          {
            maxConcurrentTasks: cfg.maxConcurrentTasks,
            maxRequestsPerMinute: cfg.rpm,
            maxTokensPerMinute: cfg.tpm,
            algorithm: cfg.algorithm,
            rejectOnLimit: cfg.rejectOnLimit,
            timeScale: 60,
          },
          { clock },
        );
        const admissions: Record<string, { at: number; amount: number; lease: number }[]> = {
          requests: [],
          tokens: [],
        };
        const leaseAdmissions = new Map<number, { at: number; amount: number; lease: number }>();
        let active = 0;
        let maxActive = 0;
        governor.events$.subscribe((e: GovernorEvent) => {
          if (e.type === 'acquired') {
            for (const r of ['requests', 'tokens'] as const) {
              const amount = Number(e.cost[r] ?? 0);
              if (amount > 0) {
                const entry = { at: e.at, amount, lease: e.leaseId };
                admissions[r]!.push(entry);
                if (r === 'tokens') leaseAdmissions.set(e.leaseId, entry);
              }
            }
            if (e.cost.task) maxActive = Math.max(maxActive, ++active);
          }
          if (e.type === 'settled' && e.actual.tokens !== undefined) {
            const entry = leaseAdmissions.get(e.leaseId);
            if (!entry) return;
            if (cfg.algorithm === 'sliding-window') {
              // A sliding window rewrites the entry where it was admitted.
              entry.amount = e.actual.tokens;
            } else {
              // A bucket credits the refund back now: what the window bounds is admissions net of refunds.
              admissions.tokens!.push({ at: e.at, amount: e.actual.tokens - entry.amount, lease: e.leaseId });
            }
          }
        });
        const calls: Call[] = [];
        let grants = 0;
        for (const o of ops) {
          if (o.kind === 'acquire') {
            const controller = new AbortController();
            const cost = { requests: o.requests, tokens: o.tokens, task: o.task };
            const call: Call = {
              index: calls.length,
              classKey: `${o.requests > 0}/${o.tokens > 0}/${o.task}/${o.priority}`,
              controller,
              settles: 0,
            };
            calls.push(call);
            governor
              .acquire(cost, {
                timeoutMs: o.timeoutMs,
                signal: controller.signal,
                priority: o.priority,
                // A hold keeps sliding-window entries counted until it ends: it only ever
                // admits less, so every bound below must still hold.
                holdUntilSettled: o.held,
              })
              .then(
                (lease) => {
                  call.settles++;
                  call.outcome = 'granted';
                  call.lease = lease;
                  call.grantOrder = grants++;
                },
                (error: unknown) => {
                  call.settles++;
                  call.outcome = 'rejected';
                  expect(TollgateError.is(error)).toBe(true);
                },
              );
          } else if (o.kind === 'advance') {
            await clock.advanceAsync(o.ms);
          } else {
            const call = calls[o.pick % Math.max(1, calls.length)];
            if (!call) continue;
            if (o.kind === 'abort') call.controller.abort();
            else if (call.lease && o.kind === 'release') {
              if (!call.lease.released && call.lease.slots > 0) active--;
              call.lease.release();
            } else if (call.lease && o.kind === 'endHold') {
              call.lease.endHold();
            } else if (call.lease && o.kind === 'settle') {
              const reserved = Number(call.lease.cost.tokens ?? 0);
              call.lease.settle({ tokens: Math.floor(reserved * o.keep) }); // refunds only
            }
          }
          await clock.advanceAsync(0);
          expect(governor.activeTasks).toBeLessThanOrEqual(cfg.maxConcurrentTasks);
          expect(livenessProblem(governor, clock.now())).toBeUndefined();
        }
        // Drain: release everything as it is granted, until every acquire has settled.
        for (let round = 0; round < 50 && calls.some((c) => c.settles === 0); round++) {
          for (const c of calls) {
            if (c.lease && !c.lease.released) {
              if (c.lease.slots > 0) active--;
              c.lease.release();
            }
          }
          await clock.advanceAsync(500);
          expect(livenessProblem(governor, clock.now())).toBeUndefined();
        }
        for (const c of calls) {
          expect(c.settles).toBe(1);
          if (c.lease && !c.lease.released) {
            if (c.lease.slots > 0) active--;
            c.lease.release();
          }
        }
        // Limits held in every window.
        expect(maxActive).toBeLessThanOrEqual(cfg.maxConcurrentTasks);
        const bounds = { requests: cfg.rpm, tokens: cfg.tpm };
        for (const r of ['requests', 'tokens'] as const) {
          if (cfg.algorithm === 'sliding-window') {
            expect(maxWindowLoad(admissions[r]!, windowMs)).toBeLessThanOrEqual(bounds[r]);
          } else {
            for (const span of [windowMs / 4, windowMs, windowMs * 2]) {
              expect(maxWindowLoad(admissions[r]!, span)).toBeLessThanOrEqual(
                bounds[r] + (bounds[r] * span) / windowMs + 1e-6,
              );
            }
          }
        }
        // FIFO among callers that need the same limits at the same priority.
        const byClass = new Map<string, Call[]>();
        for (const c of calls)
          if (c.outcome === 'granted') byClass.set(c.classKey, [...(byClass.get(c.classKey) ?? []), c]);
        for (const group of byClass.values()) {
          const orders = group.map((c) => c.grantOrder!);
          expect(orders).toEqual([...orders].sort((a, b) => a - b));
        }
        // All capacity comes back once every lease has ended and a window has passed.
        await clock.advanceAsync(windowMs * 2);
        const status = governor.checkResourceAvailability();
        expect(status.activeTasks).toBe(0);
        expect(status.queued).toBe(0);
        expect(status.remaining).toEqual({ requestsPerMinute: cfg.rpm, tokensPerMinute: cfg.tpm });
        expect(clock.pendingTimers).toBe(0);
        governor.dispose();
      }),
      { numRuns: 500 },
    );
  });
});
