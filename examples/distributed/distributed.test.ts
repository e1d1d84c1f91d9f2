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
import { type DistributedResult, lines, main, spawnWorker } from './index.js';

const it = test.skipIf(!hasService(redisService, import.meta.url));
let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server?.stop();
});

/**
 * The longest a run may take on this machine. The quota allows no less than `waits` full
 * windows after the first. Calls count in their window until their reply, so each window's
 * worth of admissions (`perWindow` calls, in order of admission across every worker) frees
 * the next one at most its longest call later; each wait ends on a timer, late by the
 * slowest worker's event-loop delay (p99), and then takes one store round trip (p99,
 * measured here). 10% more is the scheduling goal on an idle machine, where the rest is a
 * few ms.
 */
function makespanBound(result: DistributedResult, windowMs: number, perWindow: number, roundTripMs: number) {
  const waits = result.minimumMs / windowMs;
  const held = result.workers.flatMap((w) => w.held).sort((a, b) => a[0] - b[0]);
  let calls = 0;
  for (let i = 0; i < held.length; i += perWindow)
    calls += Math.max(...held.slice(i, i + perWindow).map(([, ms]) => ms));
  const lagMs = Math.max(...result.workers.map((w) => w.lagMs));
  return result.minimumMs * 1.1 + calls + waits * (lagMs + roundTripMs);
}

async function roundTripP99(): Promise<number> {
  const client = server.client();
  if (client.status !== 'ready') await once(client, 'ready');
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const start = performance.now();
    await client.ping();
    times.push(performance.now() - start);
  }
  client.disconnect();
  return times.sort((a, b) => a - b)[98]!;
}

it('4 worker processes x 50 agents share one 7-per-window quota: zero 429s, all done, makespan within 10% of the minimum plus the call, timer and store delays measured', async () => {
  const windowMs = 500;
  const result = await main({
    workers: 4,
    agents: 50,
    rpm: 7,
    windowMs,
    redisUrl: server.url,
    log: () => {},
  });
  expect(result.succeeded).toBe(200);
  expect(result.workers.every((w) => w.failed === 0 && w.rateLimited === 0)).toBe(true);
  expect(result.providerRateLimited).toBe(0);
  expect(result.maxRequestsInWindow).toBeLessThanOrEqual(7);
  expect(result.makespanMs).toBeGreaterThanOrEqual(result.minimumMs);
  expect(result.workers.flatMap((w) => w.held)).toHaveLength(200);
  const bound = makespanBound(result, windowMs, 7, await roundTripP99());
  expect(result.makespanMs).toBeLessThanOrEqual(bound);
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
  // A worker process starts in a few seconds, far more on a loaded machine: wait up to 60 s.
  for (let i = 0; i < 1200 && !said.includes('holding'); i++) await new Promise((r) => setTimeout(r, 50));
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
  // A store call's round trip, measured: the largest of a few script calls (a script, as
  // the acquire is, while the other worker uses the same Redis), not a bare PING.
  let roundTripMs = 0;
  for (let i = 0; i < 10; i++) {
    const sent = performance.now();
    await store.status(governor.config);
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
}, 150_000);
