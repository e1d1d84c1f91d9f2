// Audit: a lease's release must reach Redis even when the caller closes its connection right after.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redisService } from '../test-support/redisServer.js';
import { useRedisServer } from '../test-support/redisSuite.js';
import { hasService } from '../test-support/services.js';
import { DistributedGovernor } from './DistributedGovernor.js';
import { RedisQuotaStore } from './RedisQuotaStore.js';

const withRedis = hasService(redisService, import.meta.url);
const server = useRedisServer();

describe.skipIf(!withRedis)('RedisQuotaStore releases before a graceful quit (audit)', () => {
  it('a release made before QUIT is run by Redis (QUIT runs the commands sent before it)', async () => {
    const client = server.client();
    const admin = server.client();
    await Promise.all(
      [client, admin].map(
        (c) => new Promise((resolve) => (c.status === 'ready' ? resolve(c) : c.once('ready', resolve))),
      ),
    );
    const store = new RedisQuotaStore(client);
    const quota = `audit-${randomUUID()}`;
    const governor = new DistributedGovernor({ maxConcurrentTasks: 1 }, { store, quota });
    const lease = await governor.acquire({ task: 1 });
    const check = new RedisQuotaStore(admin);
    expect((await check.status(governor.config)).slotsUsed).toBe(1);
    // `release()` returns nothing to wait for; the caller then shuts its connection down
    // gracefully. A release sent at once goes before QUIT; a posted one goes after it, on a
    // closed connection, and the slot stays taken until its TTL.
    lease.release();
    governor.dispose();
    await client.quit();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    try {
      expect((await check.status(governor.config)).slotsUsed).toBe(0);
    } finally {
      await check.close();
      admin.disconnect();
    }
  });
});
