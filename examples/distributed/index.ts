/**
 * Several worker processes, one quota: each worker runs its agents' calls through a
 * DistributedGovernor backed by Redis, against the embedded simulator, which enforces the
 * quota strictly. Needs a Redis: REDIS_URL, or a local `redis-server` binary, which it
 * starts on a free port.
 *
 *   npm run example:distributed
 *   npm run example:distributed -- --workers 4 --agents 50 --rpm 7 --window-ms 250
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { TiktokenCounter } from '@tollgate/core';
import { startSimulator } from '@tollgate/simulator';

export interface DistributedOptions {
  readonly workers?: number;
  readonly agents?: number;
  readonly calls?: number;
  readonly rpm?: number;
  readonly windowMs?: number;
  readonly redisUrl?: string;
  readonly log?: (line: string) => void;
}

export interface WorkerResult {
  readonly worker: string;
  readonly succeeded: number;
  readonly failed: number;
  readonly rateLimited: number;
  readonly firstSent: number;
  readonly lastDone: number;
  /** Each call's admission (epoch ms) and how long it held it (ms), acquired to settled. */
  readonly held: ReadonlyArray<readonly [at: number, ms: number]>;
  /** The worker's event-loop delay, p99, in ms: how late its timers fired. */
  readonly lagMs: number;
}

export interface DistributedResult {
  readonly workers: readonly WorkerResult[];
  readonly calls: number;
  readonly succeeded: number;
  readonly providerRateLimited: number;
  readonly makespanMs: number;
  readonly minimumMs: number;
  readonly maxRequestsInWindow: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** Starts `examples/distributed/worker.ts` in its own Node process. */
export function spawnWorker(env: Record<string, string>): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@tollgate/source', join(here, 'worker.ts')],
    {
      cwd: root,
      env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.tests.json') },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

/** Collects a worker's stdout lines. */
export function lines(child: ChildProcess): string[] {
  const out: string[] = [];
  let buffer = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop() ?? '';
    out.push(...parts.filter(Boolean));
  });
  return out;
}

async function localRedis(): Promise<{ url: string; stop: () => void }> {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  child.on('error', () => {});
  await new Promise((r) => setTimeout(r, 300));
  if (child.exitCode !== null || child.pid === undefined)
    throw new Error('No REDIS_URL and no redis-server binary: apt-get install -y redis-server');
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

export async function main(options: DistributedOptions = {}): Promise<DistributedResult> {
  const { workers = 4, agents = 50, calls = 1, rpm = 7, windowMs = 250, log = console.log } = options;
  const redis = options.redisUrl ? { url: options.redisUrl, stop: () => {} } : await localRedis();
  const tokenCounter = new TiktokenCounter();
  tokenCounter.countText('warm up'); // the simulator counts with it: load the encoder now, not on a call
  const sim = await startSimulator({
    quota: { requestsPerWindow: rpm, windowMs },
    latency: { ttftMs: 5, perTokenMs: 0.1, jitter: 0.2 },
    tokenCounter,
  });
  const quota = `example-${Date.now()}`;
  log(
    `${workers} workers x ${agents} agents x ${calls} call(s), one quota of ${rpm} requests per ${windowMs} ms, Redis at ${redis.url}`,
  );
  try {
    const startAt = Date.now() + 3_000; // every worker starts at the same instant, once booted
    const children = Array.from({ length: workers }, (_, i) => {
      const child = spawnWorker({
        REDIS_URL: redis.url,
        SIM_URL: sim.url,
        QUOTA: quota,
        RPM: String(rpm),
        WINDOW_MS: String(windowMs),
        AGENTS: String(agents),
        CALLS: String(calls),
        START_AT: String(startAt),
        WORKER: String(i + 1),
      });
      return { child, out: lines(child) };
    });
    await Promise.all(children.map(({ child }) => once(child, 'exit')));
    const results = children.map(({ out }) => JSON.parse(out.at(-1) ?? '{}') as WorkerResult);
    const total = workers * agents * calls;
    const first = Math.min(...results.map((r) => r.firstSent));
    const last = Math.max(...results.map((r) => r.lastDone));
    const stats = sim.stats();
    const result: DistributedResult = {
      workers: results,
      calls: total,
      succeeded: results.reduce((s, r) => s + r.succeeded, 0),
      providerRateLimited: stats.rateLimited,
      makespanMs: last - first,
      minimumMs: (Math.ceil(total / rpm) - 1) * windowMs,
      maxRequestsInWindow: stats.maxRequestsInWindow,
    };
    for (const r of results)
      log(`  worker ${r.worker}: ${r.succeeded} succeeded, ${r.failed} failed, ${r.rateLimited} x 429`);
    log(
      `${result.succeeded}/${total} calls, ${result.providerRateLimited} 429s from the provider, at most ${result.maxRequestsInWindow} requests in a window; makespan ${result.makespanMs} ms (minimum ${result.minimumMs} ms, +${((result.makespanMs / result.minimumMs - 1) * 100).toFixed(1)}%)`,
    );
    return result;
  } finally {
    await sim.close();
    redis.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string' },
      agents: { type: 'string' },
      calls: { type: 'string' },
      rpm: { type: 'string' },
      'window-ms': { type: 'string' },
    },
  });
  const n = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const picked = {
    workers: n(values.workers),
    agents: n(values.agents),
    calls: n(values.calls),
    rpm: n(values.rpm),
    windowMs: n(values['window-ms']),
  };
  await main({
    ...Object.fromEntries(Object.entries(picked).filter(([, v]) => v !== undefined)),
    ...(process.env.REDIS_URL ? { redisUrl: process.env.REDIS_URL } : {}),
  });
}
