import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { DistributedGovernor } from './DistributedGovernor.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';

describe('DistributedLease public members kept from earlier releases', () => {
  it('still has `holds`: whether the lease was acquired with holdUntilSettled, unchanged by settle', async () => {
    const clock = new ManualClock();
    const governor = new DistributedGovernor(
      { maxRequestsPerMinute: 10, algorithm: 'sliding-window' },
      { store: new MemoryQuotaStore(clock), quota: 'lease-api', clock },
    );
    const lease = await governor.acquire({ requests: 1 }, { holdUntilSettled: true });
    expect((lease as unknown as { holds: unknown }).holds).toBe(true);
    lease.settle({ requests: 1 });
    expect((lease as unknown as { holds: unknown }).holds).toBe(true);
    lease.release();
    governor.dispose();
  });
});
