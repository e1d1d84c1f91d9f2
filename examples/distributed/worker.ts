/**
 * One worker process of the distributed example: its agents' calls go through a
 * DistributedGovernor whose quota lives in Redis, shared with every other worker.
 * Configured by environment (the orchestrator, index.ts, sets it):
 *
 *   REDIS_URL, SIM_URL, QUOTA, RPM, WINDOW_MS, AGENTS, CALLS, START_AT (epoch ms), WORKER
 *   HOLD_SLOT=1: take one concurrency slot, say "holding", and wait to be killed.
 *
 * Prints one JSON line with its results.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HeuristicTokenCounter } from '@tollgate/core';
import { DistributedGovernor, RedisQuotaStore } from '@tollgate/limits';
import { GovernedClient, OpenAIClient } from '@tollgate/llm-clients';
import { Redis } from 'ioredis';
import OpenAI from 'openai';

const env = process.env;
const number = (name: string, fallback: number) => (env[name] ? Number(env[name]) : fallback);
const rpm = number('RPM', 7);
const windowMs = number('WINDOW_MS', 60_000);

// #region governor
const redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
});
redis.on('error', () => {}); // outages reach the governor's events as store-unavailable / store-recovered
const store = new RedisQuotaStore(redis);
const provider = new DistributedGovernor(
  {
    maxRequestsPerMinute: rpm,
    maxConcurrentTasks: number('SLOTS', 1_000),
    algorithm: 'sliding-window',
    timeScale: 60_000 / windowMs,
    resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
  },
  {
    store,
    quota: env.QUOTA ?? 'example',
    name: `worker-${env.WORKER ?? process.pid}`,
    slotTtlMs: number('SLOT_TTL_MS', 10_000),
  },
);
// #endregion governor

if (env.HOLD_SLOT === '1') {
  await provider.acquire({ task: 1 });
  console.log('holding');
  await new Promise(() => {}); // until killed
}

const openai = new OpenAI({ baseURL: `${env.SIM_URL}/v1`, apiKey: 'sk-distributed', maxRetries: 0 });
const client = new GovernedClient(new OpenAIClient({ model: 'gpt-4o-mini', client: openai }), {
  governors: [provider],
  tokenCounter: new HeuristicTokenCounter(),
  retry: { maxAttempts: 3 },
});
// Warm up (connections, the first request through the SDK) under another API key: the
// simulator keeps a quota per key, so this costs the shared quota nothing.
const warm = new OpenAI({ baseURL: `${env.SIM_URL}/v1`, apiKey: 'sk-warm-up', maxRetries: 0 });
await warm.chat.completions.create({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'warm up' }],
  max_tokens: 5,
});
await provider.refresh();
const startAt = number('START_AT', Date.now());
await new Promise((r) => setTimeout(r, Math.max(0, startAt - Date.now())));
let firstSent = Number.POSITIVE_INFINITY;
let lastDone = 0;
// What paces the run besides the quota, reported for the test's bound: how long each call
// held its admission (acquired to settled, with the admission's wall-clock time, so the
// orchestrator can order every worker's admissions) and how late this process's timers fire.
const admitted = new Map<number, [at: number, since: number]>();
const held: Array<[at: number, ms: number]> = [];
provider.events$.subscribe((e) => {
  if (e.type === 'acquired') {
    firstSent = Math.min(firstSent, Date.now());
    admitted.set(e.leaseId, [Date.now(), e.at]);
  }
  const start = e.type === 'settled' ? admitted.get(e.leaseId) : undefined;
  if (start) held.push([start[0], e.at - start[1]]);
});
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const agents = number('AGENTS', 50);
const calls = number('CALLS', 1);
let failed = 0;
await Promise.all(
  Array.from({ length: agents }, async (_, i) => {
    for (let c = 0; c < calls; c++) {
      try {
        await client.chat({
          messages: [{ role: 'user', content: `worker ${env.WORKER} agent ${i} call ${c}` }],
          maxTokens: 20,
        });
      } catch {
        failed++;
      }
      lastDone = Math.max(lastDone, Date.now());
    }
  }),
);
console.log(
  JSON.stringify({
    worker: env.WORKER,
    succeeded: client.stats.succeeded,
    failed,
    rateLimited: client.stats.rateLimited,
    firstSent,
    lastDone,
    held,
    lagMs: Math.max(0, loopDelay.percentile(99) / 1e6 - 1),
  }),
);
provider.dispose();
await store.close();
redis.disconnect();
