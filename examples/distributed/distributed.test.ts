import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { DistributedGovernor, type DistributedLease, RedisQuotaStore } from '@tollgate/limits';
import { startSimulator } from '@tollgate/simulator';
import { afterAll, beforeAll, expect, it as test } from 'vitest';
import {
  type RedisServer,
  redisService,
  startRedis,
} from '../../packages/limits/src/test-support/redisServer.js';
import { hasService } from '../../packages/limits/src/test-support/services.js';
import { lines, main, spawnWorker } from './index.js';

const it = test.skipIf(!hasService(redisService, import.meta.url));
let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server?.stop();
});

it('4 worker processes x 50 agents share one 7-per-window quota: zero 429s, all done, makespan within 10% of the minimum', async () => {
  const result = await main({
    workers: 4,
    agents: 50,
    rpm: 7,
    windowMs: 500,
    redisUrl: server.url,
    log: () => {},
  });
  expect(result.succeeded).toBe(200);
  expect(result.workers.every((w) => w.failed === 0 && w.rateLimited === 0)).toBe(true);
  expect(result.providerRateLimited).toBe(0);
  expect(result.maxRequestsInWindow).toBeLessThanOrEqual(7);
  expect(result.makespanMs).toBeGreaterThanOrEqual(result.minimumMs);
  expect(result.makespanMs).toBeLessThanOrEqual(result.minimumMs * 1.1);
}, 90_000);

it('a worker killed with SIGKILL gives its slot back when its lease expires, to a waiter that sleeps until then; another worker finishes', async () => {
  const quota = `kill-${randomUUID()}`;
  const slotTtlMs = 1_500;
  const sim = await startSimulator({ quota: { requestsPerWindow: 10, windowMs: 300 } });
  const holder = spawnWorker({
    REDIS_URL: server.url,
    SIM_URL: sim.url,
    QUOTA: quota,
    SLOTS: '1',
    SLOT_TTL_MS: String(slotTtlMs),
    HOLD_SLOT: '1',
    WORKER: 'holder',
  });
  const said = lines(holder);
  for (let i = 0; i < 200 && !said.includes('holding'); i++) await new Promise((r) => setTimeout(r, 50));
  expect(said).toContain('holding');
  // Another worker on the same quota keeps calling while the holder dies.
  const other = spawnWorker({
    REDIS_URL: server.url,
    SIM_URL: sim.url,
    QUOTA: quota,
    RPM: '10',
    WINDOW_MS: '300',
    AGENTS: '10',
    CALLS: '2',
    WORKER: 'other',
  });
  const otherOut = lines(other);
  // Listen now: on a fast machine the worker may be done before the slot comes back.
  const otherExited = once(other, 'exit');

  const client = server.client();
  const store = new RedisQuotaStore(client);
  const governor = new DistributedGovernor(
    { maxConcurrentTasks: 1, maxRequestsPerMinute: 10, algorithm: 'sliding-window', timeScale: 200 },
    { store, quota, slotTtlMs },
  );
  expect((await governor.refresh()).activeTasks).toBe(0);
  expect((await store.status(governor.config)).slotsUsed).toBe(1);
  const holderExited = once(holder, 'exit');
  holder.kill('SIGKILL');
  await holderExited;
  // The dead holder's slot expires at its last renewal + TTL, on the store's clock.
  const [, expiry] = await client.zrange(`tollgate:{${quota}}:slots`, '0', '0', 'WITHSCORES');
  const expiresAt = Number(expiry);
  // A round trip to Redis, measured: the largest of a few.
  let roundTripMs = 0;
  for (let i = 0; i < 5; i++) {
    const sent = performance.now();
    await client.ping();
    roundTripMs = Math.max(roundTripMs, performance.now() - sent);
  }
  // This process's timer lag while it waits: how late a 10 ms timer fires, at worst.
  let lagMs = 0;
  let waiting = true;
  const sampler = (async () => {
    while (waiting) {
      const armed = performance.now();
      await new Promise((r) => setTimeout(r, 10));
      lagMs = Math.max(lagMs, performance.now() - armed - 10);
    }
  })();
  const lease = (await governor.acquire({ task: 1 })) as DistributedLease;
  waiting = false;
  await sampler;
  // The store tells the waiter when the slot expires and the waiter sleeps exactly until
  // then, so the store admits it at the expiry plus the waiter's timer lag (a stall can hide
  // between two samples: one sampling period more), a round trip, the governor's jitter
  // (3 ms) and the store clock's whole ms (1 ms each way).
  expect(lease.admittedAt!).toBeGreaterThanOrEqual(expiresAt);
  expect(lease.admittedAt! - expiresAt).toBeLessThanOrEqual(lagMs + 10 + roundTripMs + 3 + 2);
  lease.release();

  await otherExited;
  const report = JSON.parse(otherOut.at(-1)!);
  expect(report).toMatchObject({ succeeded: 20, failed: 0, rateLimited: 0 });
  expect(sim.stats().rateLimited).toBe(0);
  governor.dispose();
  await store.close();
  await sim.close();
}, 60_000);
