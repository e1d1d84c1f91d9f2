import { describe, expect, it } from 'vitest';
import { SystemClock } from './SystemClock.js';

describe('SystemClock', () => {
  it('keeps the process alive while a timer is pending (a waiting caller must not be dropped)', () => {
    const clock = new SystemClock();
    const handle = clock.setTimeout(() => {}, 10_000) as NodeJS.Timeout;
    expect(handle.hasRef()).toBe(true);
    clock.clearTimeout(handle);
  });

  it('never fires early: fractional delays round up', async () => {
    const clock = new SystemClock();
    const start = clock.now();
    const firedAt = await new Promise<number>((resolve) => clock.setTimeout(() => resolve(clock.now()), 5.2));
    expect(firedAt - start).toBeGreaterThanOrEqual(5.2 - 0.5); // timer granularity is about 1 ms
  });
});
