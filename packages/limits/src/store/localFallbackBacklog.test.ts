import { ManualClock } from '@tollgate/core';
import { BehaviorSubject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WaitQueue } from '../governor/WaitQueue.js';
import { DistributedGovernor } from './DistributedGovernor.js';
import { StoreUnavailableError } from './errors.js';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';

/** A memory store that can be switched off, as a Redis outage. */
class FlakyStore extends MemoryQuotaStore {
  down = false;
  override readonly available$ = new BehaviorSubject(true);
  override async acquire(...args: Parameters<MemoryQuotaStore['acquire']>) {
    if (this.down) throw new StoreUnavailableError('flaky', 'switched off');
    return super.acquire(...args);
  }
  override async status(...args: Parameters<MemoryQuotaStore['status']>) {
    if (this.down) throw new StoreUnavailableError('flaky', 'switched off');
    return super.status(...args);
  }
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** Waiters visited by every WaitQueue iteration while `n` callers queue during a local-fallback outage. */
async function visitsForBacklog(n: number): Promise<number> {
  const clock = new ManualClock();
  const store = new FlakyStore(clock);
  const governor = new DistributedGovernor(
    { maxConcurrentTasks: 4 },
    { store, quota: 'backlog', clock, onStoreDown: 'local-fallback', localShare: 0.5, jitterMs: 0 },
  );
  (await governor.acquire({ task: 1 })).release();
  store.down = true;
  const first = governor.acquire({ task: 1 }).catch(() => undefined);
  await flush(); // the outage is noticed: the policy now forwards waiters to the local share
  let visits = 0;
  const iterate = WaitQueue.prototype[Symbol.iterator];
  const spy = vi.spyOn(WaitQueue.prototype, Symbol.iterator).mockImplementation(function* (
    this: WaitQueue<never>,
  ) {
    for (const item of iterate.call(this)) {
      visits++;
      yield item;
    }
  });
  for (let i = 0; i < n; i++) governor.acquire({ task: 1 }).catch(() => undefined);
  await flush();
  spy.mockRestore();
  expect(governor.queued).toBeGreaterThan(n - 4);
  governor.dispose();
  await first;
  return visits;
}

afterEach(() => vi.restoreAllMocks());

describe('local-fallback outage with a backlog', () => {
  it('forwards queued callers to the local share in linear work, not quadratic', async () => {
    const small = await visitsForBacklog(500);
    const large = await visitsForBacklog(2_000);
    // Four times the callers may cost about four times the work; quadratic work costs sixteen.
    expect(large / small).toBeLessThan(6);
  });
});
