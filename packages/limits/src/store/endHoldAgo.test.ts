import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { DistributedGovernor } from './DistributedGovernor.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';

/** Two processes on one store: one request per 1,000 ms sliding window. */
function pair() {
  const clock = new ManualClock();
  const store = new MemoryQuotaStore(clock);
  const make = (name: string) =>
    new DistributedGovernor(
      { maxRequestsPerMinute: 1, algorithm: 'sliding-window', timeScale: 60 },
      { store, quota: 'q', clock, jitterMs: 0, name },
    );
  return { clock, a: make('a'), b: make('b') };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** When `b`'s next acquire is granted, stepping the clock 10 ms at a time. */
async function grantTime(clock: ManualClock, b: DistributedGovernor): Promise<number> {
  let at = 0;
  void b.acquire({ requests: 1 }).then(() => (at = clock.now()));
  for (let t = 0; t < 3_000 && at === 0; t += 10) {
    await clock.advanceAsync(10);
    await turn();
  }
  return at;
}

describe('GovernorLease.endHold(agoMs) on a quota store', () => {
  it('counts the held entry from now - agoMs on the store clock, for every process', async () => {
    const { clock, a, b } = pair();
    await clock.advanceAsync(100);
    const lease = await a.acquire({ requests: 1 }, { holdUntilSettled: true }); // granted at 100
    await clock.advanceAsync(1_900);
    await turn();
    lease.endHold(700); // t = 2,000: the provider counted it by 1,300
    lease.settle({ requests: 1 });
    lease.release();
    expect(await grantTime(clock, b)).toBe(2_300);
  });

  it('never counts it from before the grant, whatever agoMs says', async () => {
    for (const ago of [Number.POSITIVE_INFINITY, 1e308, 5_000]) {
      const { clock, a, b } = pair();
      await clock.advanceAsync(100);
      const lease = await a.acquire({ requests: 1 }, { holdUntilSettled: true });
      await clock.advanceAsync(600);
      await turn();
      lease.endHold(ago); // t = 700: clamped to the grant at 100
      expect(await grantTime(clock, b)).toBe(1_100);
      a.dispose();
      b.dispose();
    }
  });

  it('treats a negative agoMs as now', async () => {
    const { clock, a, b } = pair();
    const lease = await a.acquire({ requests: 1 }, { holdUntilSettled: true });
    await clock.advanceAsync(1_500);
    await turn();
    lease.endHold(-40);
    expect(await grantTime(clock, b)).toBe(2_500);
  });
});
