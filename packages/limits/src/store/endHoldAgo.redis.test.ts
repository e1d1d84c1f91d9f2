import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, redisService, startRedis } from '../test-support/redisServer.js';
import { hasService } from '../test-support/services.js';
import type { QuotaConfig } from './QuotaStore.js';
import { RedisQuotaStore } from './RedisQuotaStore.js';

const withRedis = hasService(redisService, import.meta.url);
const WINDOW = 1_000;

const config = (): QuotaConfig => ({
  quota: `ago-${randomUUID()}`,
  rates: [
    {
      name: 'rpm',
      resource: 'requests',
      algorithm: 'sliding-window',
      limit: 1,
      windowMs: WINDOW,
      capacity: 1,
    },
  ],
  maxSlots: null,
  slotTtlMs: 10_000,
  holdTtlMs: 5_000,
  recoveryHoldMs: 0,
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!withRedis)('RedisQuotaStore: a hold ended agoMs ago', () => {
  let server: RedisServer;
  let store: RedisQuotaStore;

  beforeAll(async () => {
    server = await startRedis();
    const client = server.client();
    await new Promise((resolve) => client.once('ready', resolve));
    store = new RedisQuotaStore(client);
  });

  afterAll(async () => {
    await store?.close();
    await server?.stop();
  });

  /** A held grant, then `agoMs` given at its release after 150 ms; the next acquire's reply and the grant time. */
  async function heldThenEnded(agoMs: number) {
    const c = config();
    const first = await store.acquire(c, [{ leaseId: 'a', slots: 0, held: true, amounts: [1] }]);
    expect(first.granted).toBe(1);
    await pause(150);
    await store.release(c, 'a', 0, true, [1], agoMs);
    const next = await store.acquire(c, [{ leaseId: 'b', slots: 0, held: false, amounts: [1] }]);
    return { grantedAt: first.now, next };
  }

  it('counts the entry from agoMs before the release, on the server clock', async () => {
    const { grantedAt, next } = await heldThenEnded(100);
    expect(next.granted).toBe(0);
    // released at t1 >= grantedAt + 150: the entry counts from t1 - 100, so it leaves at t1 + 900
    expect(next.waitMs).toBeLessThanOrEqual(WINDOW - 100 + 1);
    expect(next.waitMs).toBeGreaterThanOrEqual(WINDOW - 100 - (next.now - grantedAt));
  });

  it('never counts it from before the grant, whatever agoMs says', async () => {
    for (const ago of [1e6, 1e308]) {
      const { grantedAt, next } = await heldThenEnded(ago);
      expect(next.granted).toBe(0);
      expect(next.waitMs).toBe(Math.max(1, Math.ceil(grantedAt + WINDOW - next.now)));
    }
  });

  it('ends the hold at the release time without agoMs, as before', async () => {
    const { grantedAt, next } = await heldThenEnded(0);
    expect(next.granted).toBe(0);
    expect(next.waitMs).toBeGreaterThanOrEqual(WINDOW - (next.now - grantedAt) + 150 - 1);
  });
});
