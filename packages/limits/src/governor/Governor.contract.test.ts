import { ManualClock } from '@tollgate/core';
import type { ResourceLimits } from '../config/ResourceLimits.js';
import { DistributedGovernor } from '../store/DistributedGovernor.js';
import { MemoryQuotaStore } from '../store/MemoryQuotaStore.js';
import { type ContractHarness, governorContract } from '../test-support/governorContract.js';
import type { Governor } from './Governor.js';
import type { Inspectable } from './liveness.js';
import { ResourceGovernor } from './ResourceGovernor.js';
import type { GovernorEvent } from './types.js';

/** A harness on a manual clock: time moves only when the test says. */
function onManualClock(make: (clock: ManualClock) => Governor & Inspectable): Promise<ContractHarness> {
  const clock = new ManualClock();
  const governor = make(clock);
  const events: GovernorEvent[] = [];
  governor.events$.subscribe((e) => events.push(e));
  const flush = async () => {
    for (let i = 0; i < 4; i++) {
      await clock.advanceAsync(0);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  return Promise.resolve({
    governor,
    events,
    now: () => clock.now(),
    flush,
    advance: async (ms) => {
      await clock.advanceAsync(ms);
      await flush();
    },
    close: async () => governor.dispose(),
  });
}

governorContract({
  name: 'ResourceGovernor',
  make: (limits: ResourceLimits) => onManualClock((clock) => new ResourceGovernor(limits, { clock })),
});

governorContract({
  name: 'DistributedGovernor on MemoryQuotaStore',
  make: (limits: ResourceLimits) =>
    onManualClock(
      (clock) =>
        new DistributedGovernor(limits, {
          store: new MemoryQuotaStore(clock),
          quota: 'q',
          clock,
          jitterMs: 0,
        }),
    ),
});
