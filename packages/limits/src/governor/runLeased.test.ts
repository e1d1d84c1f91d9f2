import { getEventListeners } from 'node:events';
import { AbortError, ManualClock, TaskTimeoutError } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { ResourceGovernor } from './ResourceGovernor.js';

describe('runTask signals', () => {
  it('10,000 tasks on one caller signal: one listener while they run, none after', async () => {
    const governor = new ResourceGovernor({ maxConcurrentTasks: 100 });
    const caller = new AbortController();
    const seen = new Set<AbortSignal>();
    const tasks = Array.from({ length: 10_000 }, (_, i) =>
      governor.runTask(
        async (signal) => {
          seen.add(signal);
          await Promise.resolve();
          return i;
        },
        // Every tenth task has a timeout, so it runs under a scope of its own.
        { signal: caller.signal, ...(i % 10 === 0 ? { taskTimeoutMs: 60_000 } : {}) },
      ),
    );
    expect(getEventListeners(caller.signal, 'abort').length).toBeLessThanOrEqual(1);
    const results = await Promise.all(tasks);
    expect(results[9_999]).toBe(9_999);
    // Tasks without a timeout run on the caller's signal itself; each with one has its own.
    expect(seen.size).toBe(1 + 1_000);
    expect(seen.has(caller.signal)).toBe(true);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(governor.activeTasks).toBe(0);
    governor.dispose();
  });

  it('a task without a signal or timeout gets one that never aborts; the caller’s abort still ends a task', async () => {
    const clock = new ManualClock();
    const governor = new ResourceGovernor({ maxConcurrentTasks: 2 }, { clock });
    let free: AbortSignal | undefined;
    await governor.runTask((signal) => {
      free = signal;
    });
    expect(free?.aborted).toBe(false);
    const caller = new AbortController();
    let inner: AbortSignal | undefined;
    const running = governor.runTask(
      (signal) =>
        new Promise<void>((_, reject) => {
          inner = signal;
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      { signal: caller.signal },
    );
    await clock.advanceAsync(0);
    caller.abort(new AbortError('stop'));
    await expect(running).rejects.toThrow('stop');
    expect(inner?.aborted).toBe(true);
    await clock.advanceAsync(0);
    expect(governor.activeTasks).toBe(0);
    expect(free?.aborted).toBe(false);
    governor.dispose();
  });

  it('a task timeout aborts the task’s own scope, not the caller’s signal', async () => {
    const clock = new ManualClock();
    const governor = new ResourceGovernor({ maxConcurrentTasks: 1 }, { clock });
    const caller = new AbortController();
    let inner: AbortSignal | undefined;
    const running = governor.runTask(
      (signal) => {
        inner = signal;
        return new Promise<void>(() => {});
      },
      { signal: caller.signal, taskTimeoutMs: 100 },
    );
    const settled = expect(running).rejects.toSatisfy((e) => TaskTimeoutError.is(e));
    await clock.advanceAsync(100);
    await settled;
    expect(inner?.aborted).toBe(true);
    expect(caller.signal.aborted).toBe(false);
    // The task ignores its signal: its slot comes back after the stop grace.
    await clock.advanceAsync(5_000);
    expect(governor.activeTasks).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    governor.dispose();
  });
});
