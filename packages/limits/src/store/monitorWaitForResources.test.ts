import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { parseResourceLimits } from '../config/parseResourceLimits.js';
import type { Governor } from '../governor/Governor.js';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';
import { DistributedGovernor } from './DistributedGovernor.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const limits = { maxRequestsPerMinute: 1, enforceLimits: false } as const;

const kinds: Array<[string, (clock: ManualClock) => Governor]> = [
  ['ResourceGovernor', (clock) => new ResourceGovernor(parseResourceLimits(limits), { clock })],
  [
    'DistributedGovernor',
    (clock) =>
      new DistributedGovernor(limits, { store: new MemoryQuotaStore(clock), quota: 'monitor-probe', clock }),
  ],
];

describe('waitForResources in monitor mode', () => {
  it.each(kinds)(
    '%s: resolves true at once over the limit, since monitor mode admits everything',
    async (_, make) => {
      const clock = new ManualClock();
      const governor = make(clock);
      (await governor.acquire({ requests: 1 })).release();
      const answer = { value: undefined as boolean | undefined };
      void governor.waitForResources(1_000, { requests: 1 }).then((v) => {
        answer.value = v;
      });
      await flush();
      // An acquire of that cost is admitted at once...
      const lease = await governor.acquire({ requests: 1 });
      lease.release();
      await clock.advanceAsync(1_000);
      await flush();
      // ...so the probe must say so.
      expect(answer.value).toBe(true);
      governor.dispose();
    },
  );
});
