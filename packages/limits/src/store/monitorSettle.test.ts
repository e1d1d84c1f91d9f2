import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { parseResourceLimits } from '../config/parseResourceLimits.js';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';
import { DistributedGovernor } from './DistributedGovernor.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const limits = { maxTokensPerMinute: 100, enforceLimits: false } as const;

describe('monitor mode counts settled usage (docs/governor.md "usage is still counted")', () => {
  it('ResourceGovernor: a settle above the estimate is counted', async () => {
    const governor = new ResourceGovernor(parseResourceLimits(limits), { clock: new ManualClock() });
    const lease = await governor.acquire({ tokens: 10 });
    lease.settle({ tokens: 90 });
    lease.release();
    expect(governor.remaining('tokens')).toBe(10);
  });

  it('DistributedGovernor: a settle above the estimate is charged to the shared quota', async () => {
    const clock = new ManualClock();
    const governor = new DistributedGovernor(limits, {
      store: new MemoryQuotaStore(clock),
      quota: 'monitor-settle',
      clock,
    });
    const lease = await governor.acquire({ tokens: 10 });
    lease.settle({ tokens: 90 });
    lease.release();
    await flush();
    expect((await governor.refresh()).remaining.tokensPerMinute).toBe(10);
    governor.dispose();
  });
});
