import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { DistributedGovernor, RedisQuotaStore } from '@tollgate/limits';
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

it('a worker killed with SIGKILL gives its slot back within the lease TTL; another worker finishes', async () => {
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
  holder.kill('SIGKILL');
  const killedAt = Date.now();
  const lease = await governor.acquire({ task: 1 });
  const waited = Date.now() - killedAt;
  expect(waited).toBeLessThanOrEqual(slotTtlMs + 250);
  lease.release();

  await otherExited;
  const report = JSON.parse(otherOut.at(-1)!);
  expect(report).toMatchObject({ succeeded: 20, failed: 0, rateLimited: 0 });
  expect(sim.stats().rateLimited).toBe(0);
  governor.dispose();
  await store.close();
  await sim.close();
}, 60_000);
