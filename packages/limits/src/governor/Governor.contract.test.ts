import type { ResourceLimits } from '../config/ResourceLimits.js';
import { DistributedGovernor } from '../store/DistributedGovernor.js';
import { MemoryQuotaStore } from '../store/MemoryQuotaStore.js';
import { governorContract, onManualClock } from '../test-support/governorContract.js';
import { ResourceGovernor } from './ResourceGovernor.js';

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
