import { InvalidArgumentError, ManualClock } from '@tollgate/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResourceGovernor } from './ResourceGovernor.js';

/** A governor of one request per 60 s window that holds its leases until the reply. */
function setup() {
  const clock = new ManualClock();
  const governor = new ResourceGovernor(
    { maxRequestsPerMinute: 1, algorithm: 'sliding-window' },
    { clock, name: 'ago' },
  );
  return { clock, governor };
}

/** When the next acquire is granted, on the manual clock, stepping `step` ms (at most 200 s). */
async function nextGrant(clock: ManualClock, governor: ResourceGovernor, step = 1): Promise<number> {
  let at = -1;
  void governor.acquire({ requests: 1 }).then((lease) => {
    at = clock.now();
    lease.release();
  });
  for (let waited = 0; at < 0 && waited < 200_000; waited += step) await clock.advanceAsync(step);
  return at;
}

describe('GovernorLease.endHold(agoMs) in process', () => {
  it('counts the window from now - agoMs: the next call goes exactly one window after that', async () => {
    const { clock, governor } = setup();
    await clock.advanceAsync(1_000);
    const lease = await governor.acquire({ requests: 1 }, { holdUntilSettled: true }); // granted at 1,000
    await clock.advanceAsync(9_000); // t = 10,000: the reply arrives; the provider says it had it 4,000 ms
    lease.endHold(4_000);
    lease.settle({ requests: 1 });
    lease.release();
    expect(await nextGrant(clock, governor, 100)).toBe(66_000); // 6,000 + 60,000
  });

  it('clamps agoMs to the grant: Infinity, 1e308 or more than the time held count from the grant', async () => {
    for (const ago of [Number.POSITIVE_INFINITY, 1e308, 50_000]) {
      const { clock, governor } = setup();
      await clock.advanceAsync(1_000);
      const lease = await governor.acquire({ requests: 1 }, { holdUntilSettled: true });
      await clock.advanceAsync(9_000);
      lease.endHold(ago);
      expect(await nextGrant(clock, governor, 100)).toBe(61_000);
    }
  });

  it('treats a negative agoMs as now and rejects NaN or a non-number, keeping the hold', async () => {
    const { clock, governor } = setup();
    const lease = await governor.acquire({ requests: 1 }, { holdUntilSettled: true });
    await clock.advanceAsync(10_000);
    expect(() => lease.endHold(Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => lease.endHold('5' as unknown as number)).toThrow(/agoMs/);
    await clock.advanceAsync(70_000); // still held after the bad calls: nothing admitted
    expect(governor.remaining('requests')).toBe(0);
    lease.endHold(-5); // t = 80,000
    lease.endHold(80_000); // idempotent: the hold has ended
    expect(await nextGrant(clock, governor, 100)).toBe(140_000);
  });

  it('never lets more than the limit into any window the provider counts, whatever the offsets', async () => {
    // The provider counts each call at an instant between our grant and the reply; the
    // client reports at most the time since that instant (the header rounds down).
    const call = fc.record({
      send: fc.integer({ min: 0, max: 40 }),
      admit: fc.integer({ min: 0, max: 300 }),
      reply: fc.integer({ min: 0, max: 300 }),
      slack: fc.integer({ min: 0, max: 50 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 4, maxLength: 25 }), async (calls) => {
        const clock = new ManualClock();
        const g = new ResourceGovernor(
          { maxRequestsPerMinute: 3, timeScale: 60, algorithm: 'sliding-window' },
          { clock, name: 'p' },
        );
        const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));
        const admitted: number[] = [];
        const runs = calls.map(async (c) => {
          await sleep(c.send);
          const lease = await g.acquire({ requests: 1 }, { holdUntilSettled: true });
          await sleep(c.admit);
          admitted.push(clock.now()); // the provider counts it here
          await sleep(c.reply);
          lease.endHold(Math.max(0, c.reply - c.slack));
          lease.settle({ requests: 1 });
          lease.release();
        });
        const all = Promise.all(runs);
        for (let i = 0; i < 4_000; i++) await clock.advanceAsync(5);
        await all;
        admitted.sort((x, y) => x - y);
        for (let i = 3; i < admitted.length; i++)
          expect(admitted[i]! - admitted[i - 3]!).toBeGreaterThanOrEqual(1_000);
        g.dispose();
      }),
      { numRuns: 40 },
    );
  });
});
