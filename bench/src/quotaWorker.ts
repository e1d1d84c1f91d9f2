/**
 * One worker process of the `processes` bench section: on the parent's word it runs its
 * share of the calls through a GovernedClient on a DistributedGovernor whose quota lives in
 * Redis, against the parent's simulator, and reports what it saw. Driven over IPC:
 *
 *   parent -> { type: 'prepare', run }   child -> { type: 'prepared' }
 *   parent -> { type: 'go', startAt }    child -> { type: 'done', result }
 *   parent -> { type: 'exit' }
 */
import { HeuristicTokenCounter } from '@tollgate/core';
import { DistributedGovernor, RedisQuotaStore } from '@tollgate/limits';
import { GovernedClient, OpenAIClient } from '@tollgate/llm-clients';
import { Redis } from 'ioredis';
import OpenAI from 'openai';

/** What one run asks of a worker. */
export interface WorkerRun {
  readonly redisUrl: string;
  readonly simUrl: string;
  readonly quota: string;
  readonly rpm: number;
  readonly windowMs: number;
  readonly calls: number;
  readonly maxTokens: number;
}

/** What a worker saw of one run. */
export interface WorkerResult {
  readonly succeeded: number;
  readonly failed: number;
  readonly rateLimited: number;
  /** Epoch ms of the first call made and the last answer. */
  readonly firstSent: number;
  readonly lastDone: number;
  /** Per call, epoch ms: its grant and the end of its hold (its settle). */
  readonly holds: ReadonlyArray<readonly [acquired: number, settled: number]>;
  /**
   * Per reply, epoch ms: when the provider counted the call, as its reply tells
   * (headers' arrival less `openai-processing-ms`; a little late by the reply's way back).
   */
  readonly admissions: readonly number[];
}

type Message =
  | { readonly type: 'prepare'; readonly run: WorkerRun }
  | { readonly type: 'go'; readonly startAt: number }
  | { readonly type: 'exit' };

interface Prepared {
  readonly run: WorkerRun;
  readonly redis: Redis;
  readonly store: RedisQuotaStore;
  readonly governor: DistributedGovernor;
  readonly client: GovernedClient;
  readonly admissions: number[];
}

const send = (message: unknown) => process.send?.(message);

/** A governed client on a DistributedGovernor of `quota`, calling the simulator with `apiKey`. */
function governed(run: WorkerRun, redis: Redis, quota: string, apiKey: string, admissions?: number[]) {
  const store = new RedisQuotaStore(redis);
  const governor = new DistributedGovernor(
    {
      maxRequestsPerMinute: run.rpm,
      algorithm: 'sliding-window',
      timeScale: 60_000 / run.windowMs,
      resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
    },
    { store, quota, name: `bench-${process.pid}` },
  );
  const openai = new OpenAI({
    baseURL: `${run.simUrl}/v1`,
    apiKey,
    maxRetries: 0,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      const processing = Number(response.headers.get('openai-processing-ms'));
      if (response.ok && Number.isFinite(processing)) admissions?.push(Date.now() - processing);
      return response;
    },
  });
  const client = new GovernedClient(new OpenAIClient({ model: 'gpt-4o-mini', client: openai }), {
    governors: [governor],
    tokenCounter: new HeuristicTokenCounter(),
    retry: { maxAttempts: 3 },
  });
  return { store, governor, client };
}

async function prepare(run: WorkerRun): Promise<Prepared> {
  const redis = new Redis(run.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  // Warm up the whole path (the keep-alive connections a window's calls need, the SDK, the
  // governed client, the store's scripts) on a quota and an API key of this worker's own:
  // the simulator keeps a quota per key, so this costs the shared quota nothing.
  const warm = governed(run, redis, `${run.quota}:warm-up:${process.pid}`, `sk-warm-up-${process.pid}`);
  await Promise.all(
    Array.from({ length: Math.min(run.calls, run.rpm) }, () =>
      warm.client.chat({ messages: [{ role: 'user', content: 'warm up' }], maxTokens: 5 }),
    ),
  );
  warm.governor.dispose();
  await warm.store.close();
  const admissions: number[] = [];
  const { store, governor, client } = governed(run, redis, run.quota, 'sk-bench', admissions);
  await governor.refresh();
  return { run, redis, store, governor, client, admissions };
}

async function go(p: Prepared, startAt: number): Promise<WorkerResult> {
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
  let firstSent = Number.POSITIVE_INFINITY;
  let lastDone = 0;
  let failed = 0;
  const acquired = new Map<number, number>();
  const holds: Array<[number, number]> = [];
  const subscription = p.governor.events$.subscribe((e) => {
    if (e.type === 'acquired') acquired.set(e.leaseId, Date.now());
    const at = e.type === 'settled' ? acquired.get(e.leaseId) : undefined;
    if (at !== undefined) holds.push([at, Date.now()]);
  });
  await Promise.all(
    Array.from({ length: p.run.calls }, async (_, i) => {
      firstSent = Math.min(firstSent, Date.now());
      try {
        await p.client.chat({
          messages: [{ role: 'user', content: `worker ${process.pid} call ${i}` }],
          maxTokens: p.run.maxTokens,
        });
      } catch {
        failed++;
      }
      lastDone = Math.max(lastDone, Date.now());
    }),
  );
  subscription.unsubscribe();
  const { succeeded, rateLimited } = p.client.stats;
  p.governor.dispose();
  await p.store.close();
  p.redis.disconnect();
  return { succeeded, failed, rateLimited, firstSent, lastDone, holds, admissions: p.admissions };
}

let prepared: Prepared | undefined;
process.on('message', (message: Message) => {
  if (message.type === 'exit') process.exit(0);
  const step =
    message.type === 'prepare'
      ? prepare(message.run).then((p) => {
          prepared = p;
          send({ type: 'prepared' });
        })
      : go(prepared!, message.startAt).then((result) => send({ type: 'done', result }));
  step.catch((error: unknown) => send({ type: 'error', message: String(error) }));
});
send({ type: 'ready' });
