import { ManualClock, SystemClock } from '@tollgate/core';
import { describe, expect, it, vi } from 'vitest';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';

const DAY = 86_400_000;

/** Settles `promise` into a string as it stands after the clock's work so far. */
function watch(promise: Promise<unknown>): { state: string } {
  const seen = { state: 'pending' };
  promise.then(
    () => {
      seen.state = 'resolved';
    },
    (e: Error) => {
      seen.state = e.name;
    },
  );
  return seen;
}

describe('limits with durations past 2^31-1 ms (the longest native timer)', () => {
  it('a 30-day task timeout and a 30-day wait timeout fire after 30 days, not at once', async () => {
    const clock = new ManualClock();
    const governor = new ResourceGovernor(
      { maxConcurrentTasks: 1, taskTimeoutSeconds: 30 * 86_400, resourceWaitTimeoutSeconds: 30 * 86_400 },
      { clock },
    );
    const task = watch(
      governor.runTask(
        (signal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      ),
    );
    const waiter = watch(governor.acquire({ task: 1 }));
    await clock.advanceAsync(30 * DAY - 1);
    expect([task.state, waiter.state]).toEqual(['pending', 'pending']);
    await clock.advanceAsync(1);
    expect(task.state).toBe('TaskTimeoutError');
    expect(waiter.state).toBe('ResourceWaitTimeoutError');
    governor.dispose();
  });

  it('a 30-day window admits the next request after 30 days, with one wake-up armed meanwhile', async () => {
    const clock = new ManualClock();
    const governor = new ResourceGovernor(
      {
        rates: [{ resource: 'reports', limit: 1, windowMs: 30 * DAY, algorithm: 'sliding-window' }],
        resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
      },
      { clock },
    );
    await governor.acquire({ reports: 1 });
    const next = watch(governor.acquire({ reports: 1 }));
    await clock.advanceAsync(0);
    expect(clock.pendingTimers).toBe(1); // the wake-up; an endless wait arms no timeout
    await clock.advanceAsync(30 * DAY - 1);
    expect(next.state).toBe('pending');
    await clock.advanceAsync(1);
    expect(next.state).toBe('resolved');
    governor.dispose();
  });

  it('on the wall clock (native timers faked, overflow included): no early timeout, no busy wake-ups', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance', 'hrtime'] });
    try {
      const clock = new SystemClock();
      const governor = new ResourceGovernor(
        {
          taskTimeoutSeconds: 30 * 86_400,
          maxTokensPerMinute: 1000,
          resourceWaitTimeoutSeconds: 2,
        },
        { clock },
      );
      const task = watch(
        governor.runTask(
          (signal) =>
            new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        ),
      );
      const lease = await governor.acquire({ tokens: 10 });
      lease.settle({ tokens: 1e12 }); // a debt paid back in about 1e9 minutes
      const waiter = watch(governor.acquire({ tokens: 1 }));
      let fired = 0;
      const realSetTimeout = globalThis.setTimeout;
      const counting = ((fn: () => void, ms?: number) =>
        realSetTimeout(() => {
          fired++;
          fn();
        }, ms)) as typeof setTimeout;
      globalThis.setTimeout = counting;
      await vi.advanceTimersByTimeAsync(1_999);
      globalThis.setTimeout = realSetTimeout;
      expect(fired).toBeLessThanOrEqual(1); // no wake-up re-armed every millisecond
      expect([task.state, waiter.state]).toEqual(['pending', 'pending']);
      await vi.advanceTimersByTimeAsync(1);
      expect([task.state, waiter.state]).toEqual(['pending', 'ResourceWaitTimeoutError']);
      governor.dispose();
    } finally {
      vi.useRealTimers();
    }
  });
});
