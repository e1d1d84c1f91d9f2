import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import type { ResourceLimits } from '../config/ResourceLimits.js';
import { livenessView } from '../governor/liveness.js';
import type { GovernorEvent } from '../governor/types.js';
import { type ContractHarness, governorContract } from '../test-support/governorContract.js';
import { type RedisServer, startRedis } from '../test-support/redisServer.js';
import { DistributedGovernor } from './DistributedGovernor.js';
import { RedisQuotaStore } from './RedisQuotaStore.js';

let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await server?.stop();
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Redis keeps its own clock, so these run in real time, on windows of about a second. */
async function onRedis(limits: ResourceLimits): Promise<ContractHarness> {
  const client = server.client();
  await new Promise((resolve) => client.once('ready', resolve));
  const store = new RedisQuotaStore(client);
  const governor = new DistributedGovernor(limits, { store, quota: `contract-${randomUUID()}`, jitterMs: 1 });
  const events: GovernorEvent[] = [];
  governor.events$.subscribe((e) => events.push(e));
  // Pending work is done when no store call is in flight (or a second has passed); settles
  // and releases are not awaited by anyone, so give them a moment on the loopback first.
  const flush = async () => {
    await sleep(20);
    for (let i = 0; i < 200; i++) {
      await sleep(5);
      if (!governor[livenessView]().busy) return;
    }
  };
  return {
    governor,
    events,
    now: () => Date.now(),
    flush,
    advance: async (ms) => {
      await sleep(ms);
      await flush();
    },
    close: async () => {
      governor.dispose();
      await store.close();
    },
  };
}

governorContract({ name: 'DistributedGovernor on Redis', make: onRedis });
