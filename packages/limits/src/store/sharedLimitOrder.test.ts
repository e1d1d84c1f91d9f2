import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { parseResourceLimits } from '../config/parseResourceLimits.js';
import type { Governor } from '../governor/Governor.js';
import type { Inspectable } from '../governor/liveness.js';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';
import { livenessProblem } from '../test-support/liveness.js';
import { DistributedGovernor } from './DistributedGovernor.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};
const limits = { maxRequestsPerMinute: 10, maxConcurrentTasks: 1 } as const;
const kinds: Array<[string, (clock: ManualClock) => Governor]> = [
  ['ResourceGovernor', (clock) => new ResourceGovernor(parseResourceLimits(limits), { clock })],
  [
    'DistributedGovernor',
    (clock) =>
      new DistributedGovernor(limits, {
        store: new MemoryQuotaStore(clock),
        quota: 'shared-limit-order',
        clock,
      }),
  ],
];

describe('waiters that share no limit with the head (docs/governor.md "among those that need the same limits")', () => {
  it.each(kinds)(
    "%s: a running task's call is not queued behind a task waiting for that task's slot",
    async (_, make) => {
      const clock = new ManualClock();
      const governor = make(clock);
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const steps: string[] = [];
      const running = governor.runTask(async () => {
        await gate;
        // The task's LLM call: it needs only a request, which is free.
        const call = await governor.acquire({ requests: 1 }, { timeoutMs: 5_000 });
        call.release();
        steps.push('call admitted');
      });
      await flush();
      // A second task waits for the only slot, held by the first.
      const next = governor.runTask(async () => steps.push('next task ran'));
      await flush();
      release();
      await flush();
      // The call shares no limit with the task waiting for the slot: it is served as a head is.
      expect(livenessProblem(governor as unknown as Inspectable, clock.now())).toBeUndefined();
      await clock.advanceAsync(5_000);
      await flush();
      await Promise.allSettled([running, next]);
      expect(steps).toEqual(['call admitted', 'next task ran']);
      governor.dispose();
    },
  );
});
