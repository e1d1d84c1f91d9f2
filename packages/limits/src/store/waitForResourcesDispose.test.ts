import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { DistributedGovernor } from './DistributedGovernor.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';

const settledWithin = async <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p.then((v) => ({ value: v })),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms)),
  ]);

describe('DistributedGovernor.dispose with a pending waitForResources', () => {
  it('answers false at dispose, as ResourceGovernor does, and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const governor = new DistributedGovernor(
      { maxConcurrentTasks: 1 },
      { store: new MemoryQuotaStore(clock), quota: 'probe-dispose', clock },
    );
    await governor.acquire({ task: 1 });
    // The probe's first store call is in flight when dispose comes.
    const probe = governor.waitForResources(Number.POSITIVE_INFINITY, { task: 1 });
    governor.dispose();
    expect(await settledWithin(probe, 200)).toEqual({ value: false });
    expect(clock.pendingTimers).toBe(0);
  });
});
