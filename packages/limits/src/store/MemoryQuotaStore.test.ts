import { ManualClock } from '@tollgate/core';
import { describe, expect, it } from 'vitest';
import { MemoryQuotaStore } from './MemoryQuotaStore.js';
import type { QuotaConfig } from './QuotaStore.js';

const config: QuotaConfig = {
  quota: 'q',
  rates: [],
  maxSlots: 1,
  slotTtlMs: 100,
  holdTtlMs: 1_000,
  recoveryHoldMs: 0,
};

describe('MemoryQuotaStore', () => {
  it('renews a live slot, and never revives one whose TTL has passed', async () => {
    const clock = new ManualClock();
    const store = new MemoryQuotaStore(clock);
    expect(
      (await store.acquire(config, [{ leaseId: 'a', slots: 1, held: false, amounts: [] }])).granted,
    ).toBe(1);
    clock.advance(90);
    await store.renew(config, [{ leaseId: 'a', slots: 1 }]);
    clock.advance(90); // 180 ms in: alive only through the renewal
    expect((await store.status(config)).slotsUsed).toBe(1);
    clock.advance(101); // past its renewed TTL, and no call in between cleaned it up
    await store.renew(config, [{ leaseId: 'a', slots: 1 }]);
    expect((await store.status(config)).slotsUsed).toBe(0);
  });
});
