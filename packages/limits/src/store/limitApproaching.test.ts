import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { parseResourceLimits } from '../config/parseResourceLimits.js';
import type { Governor } from '../governor/Governor.js';
import { ResourceGovernor } from '../governor/ResourceGovernor.js';
import { DistributedGovernor } from './DistributedGovernor.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';

const limits = { maxRequestsPerMinute: 5 } as const;
const kinds: Array<[string, (clock: ManualClock) => Governor]> = [
  ['ResourceGovernor', (clock) => new ResourceGovernor(parseResourceLimits(limits), { clock })],
  [
    'DistributedGovernor',
    (clock) =>
      new DistributedGovernor(limits, { store: new MemoryQuotaStore(clock), quota: 'approaching', clock }),
  ],
];

describe('limit-approaching in enforce mode', () => {
  it.each(kinds)('%s: emits limit-approaching when usage crosses four fifths of a limit', async (_, make) => {
    const governor = make(new ManualClock());
    const types: string[] = [];
    governor.events$.subscribe((e) => types.push(e.type));
    for (let i = 0; i < 5; i++) (await governor.acquire({ requests: 1 })).release();
    expect(types).toContain('limit-approaching');
    governor.dispose();
  });
});
