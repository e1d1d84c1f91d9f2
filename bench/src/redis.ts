import { performance } from 'node:perf_hooks';
import { DistributedGovernor, RedisQuotaStore } from '@tollgate/limits';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { startRedis } from '../../packages/limits/src/test-support/redisServer.js';
import {
  type BenchOptions,
  fmt,
  markdown,
  repeat,
  type Sample,
  type SectionResult,
  table,
} from './common.js';

const HIGH = 1_000_000_000;
const SLIDING = 'tollgate acquire (2 rates, sliding windows)';
const BUCKETS = 'tollgate acquire (2 rates, token buckets: the default)';

/** Ops per second of `op` with `callers` concurrent loops sharing `total` operations. */
async function throughput(op: () => Promise<unknown>, callers: number, total: number): Promise<number> {
  let left = total;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (left > 0) {
        left--;
        await op();
      }
    }),
  );
  return total / ((performance.now() - start) / 1000);
}

export async function redis(options: BenchOptions): Promise<SectionResult> {
  let server: Awaited<ReturnType<typeof startRedis>>;
  try {
    server = await startRedis();
  } catch (error) {
    const why = (error as Error).message;
    return {
      name: 'redis',
      title: 'Redis',
      data: { skipped: why },
      table: `skipped: ${why}`,
      markdown: `Skipped: ${why}`,
      goals: [],
      skipped: why,
    };
  }
  const client = server.client();
  await new Promise((resolve) => client.once('ready', resolve));
  const store = new RedisQuotaStore(client);
  const governor = new DistributedGovernor(
    { maxRequestsPerMinute: HIGH, maxTokensPerMinute: HIGH, algorithm: 'sliding-window' },
    { store, quota: 'bench' },
  );
  // The default algorithm (token buckets), and a lease that settles and frees a slot, as a
  // governed call does: its settle and release ride with the next acquire.
  const buckets = new DistributedGovernor(
    { maxRequestsPerMinute: HIGH, maxTokensPerMinute: HIGH },
    { store, quota: 'bench-buckets' },
  );
  const settling = new DistributedGovernor(
    { maxConcurrentTasks: 1_000, maxRequestsPerMinute: HIGH, maxTokensPerMinute: HIGH },
    { store, quota: 'bench-settle' },
  );
  const flexible = new RateLimiterRedis({
    storeClient: client,
    points: HIGH,
    duration: 60,
    keyPrefix: 'bench-rlf',
  });
  const contenders: Record<string, () => Promise<unknown>> = {
    'raw PING': () => client.ping(),
    [SLIDING]: async () => (await governor.acquire({ requests: 1, tokens: 1 })).release(),
    [BUCKETS]: async () => (await buckets.acquire({ requests: 1, tokens: 1 })).release(),
    'tollgate acquire + settle + release (slot, 2 token buckets)': async () => {
      const lease = await settling.acquire({ requests: 1, tokens: 2 });
      lease.settle({ tokens: 1 });
      lease.release();
    },
    'rate-limiter-flexible (redis)': () => flexible.consume('k', 1),
  };
  const total = options.quick ? 2_000 : 20_000;
  const runs = options.quick ? 1 : 3;
  const rows: { name: string; callers: number; ops: Sample }[] = [];
  try {
    for (const callers of [1, 64]) {
      for (const [name, op] of Object.entries(contenders)) {
        await throughput(op, callers, Math.min(total, 500)); // warm up
        const ops = await repeat(runs, () => throughput(op, callers, total));
        rows.push({ name, callers, ops });
        options.log(`  redis: ${name}, ${callers} caller(s): ${fmt.rate(ops.median)}/s`);
      }
    }
  } finally {
    governor.dispose();
    buckets.dispose();
    settling.dispose();
    await store.close();
    await server.stop();
  }
  const ping = (callers: number) =>
    rows.find((r) => r.callers === callers && r.name === 'raw PING')!.ops.median;
  const header = ['operation', 'callers', 'ops/s', 'vs PING'];
  const cells = rows.map((r) => [
    r.name,
    r.callers,
    fmt.range(r.ops, fmt.rate),
    fmt.pct(r.ops.median / ping(r.callers)),
  ]);
  const share = (name: string, callers: number) =>
    rows.find((r) => r.callers === callers && r.name === name)!.ops.median / ping(callers);
  return {
    name: 'redis',
    title: 'Redis: acquires per second against raw PING, on a local redis-server',
    data: { total, runs, rows },
    table: table(header, cells),
    markdown: markdown(header, cells),
    // The goal is for what a Redis quota does by default (token buckets); the sliding
    // windows' share is shown beside it, as a goal of its own.
    goals: [BUCKETS, SLIDING].flatMap((name) =>
      [1, 64].map((c) => ({
        goal: `${c} caller(s), ${name === BUCKETS ? 'token buckets (default)' : 'sliding windows'}: at least 90% of PING throughput`,
        met: share(name, c) >= 0.9,
        value: fmt.pct(share(name, c)),
      })),
    ),
  };
}
