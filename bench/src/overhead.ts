import { performance } from 'node:perf_hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { ResourceGovernor } from '@tollgate/limits';
import { instrument } from '@tollgate/telemetry';
import Bottleneck from 'bottleneck';
import { bulkhead } from 'cockatiel';
import { RateLimiter } from 'limiter';
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { RateLimiterMemory } from 'rate-limiter-flexible';
import {
  type BenchOptions,
  fmt,
  markdown,
  repeat,
  type Sample,
  type SectionResult,
  table,
} from './common.js';

type Contender = { readonly name: string; readonly make: () => () => Promise<unknown> };

const HIGH = 1_000_000_000;

/** The governor every Tollgate row runs: one concurrency limit and two rate limits, never blocking. */
const tollgateGovernor = () =>
  new ResourceGovernor({ maxConcurrentTasks: HIGH, maxRequestsPerMinute: HIGH, maxTokensPerMinute: HIGH });

/**
 * The same governor under `instrument`: an OpenTelemetry SDK meter that aggregates every
 * measurement (its reader exports once an hour, so never during the run) and the Prometheus registry.
 */
function instrumentedGovernor(): ResourceGovernor {
  const g = tollgateGovernor();
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  instrument(g, { meterProvider });
  return g;
}

/** The main Tollgate row's name. */
export const THREE_LIMITS = 'tollgate (1 concurrency + 2 rate limits)';

/** The row with one rate limit only, to compare with the one-counter limiters. */
export const ONE_LIMIT = 'tollgate (1 rate limit)';

/** The row that grants through the synchronous `tryAcquire`, with the same three limits. */
export const TRY_ACQUIRE = 'tollgate tryAcquire (synchronous, 1 concurrency + 2 rate limits)';

/** The instrumented row's name. */
export const INSTRUMENTED = 'tollgate + instrument (OpenTelemetry SDK meter + Prometheus registry)';

/** Each contender makes one "acquire, then release" function, with limits too high to block. */
export const contenders: readonly Contender[] = [
  { name: 'baseline (await Promise.resolve())', make: () => () => Promise.resolve() },
  {
    name: THREE_LIMITS,
    make: () => {
      const g = tollgateGovernor();
      return async () => (await g.acquire({ task: 1, requests: 1, tokens: 1 })).release();
    },
  },
  {
    // Like with like: one rate limit, as rate-limiter-flexible and limiter each count one.
    name: ONE_LIMIT,
    make: () => {
      const g = new ResourceGovernor({ maxRequestsPerMinute: HIGH });
      return async () => (await g.acquire({ requests: 1 })).release();
    },
  },
  {
    // The same governor for a caller that goes on only if a lease is free now: no promise per
    // grant, so the one promise each call awaits is a bare `Promise.resolve()`, as in the baseline.
    name: TRY_ACQUIRE,
    make: () => {
      const g = tollgateGovernor();
      return () => {
        g.tryAcquire({ task: 1, requests: 1, tokens: 1 })!.release();
        return Promise.resolve();
      };
    },
  },
  {
    // What any events$ subscriber costs the governor, whatever it does: the share of the
    // instrumented row's cost that is the governor's own event path.
    name: 'tollgate + an events$ subscriber that does nothing',
    make: () => {
      const g = tollgateGovernor();
      g.events$.subscribe(() => {});
      return async () => (await g.acquire({ task: 1, requests: 1, tokens: 1 })).release();
    },
  },
  {
    name: INSTRUMENTED,
    make: () => {
      const g = instrumentedGovernor();
      return async () => (await g.acquire({ task: 1, requests: 1, tokens: 1 })).release();
    },
  },
  {
    name: 'p-limit',
    make: () => {
      const limit = pLimit(HIGH);
      return () => limit(() => undefined);
    },
  },
  {
    name: 'p-queue',
    make: () => {
      const queue = new PQueue({ concurrency: HIGH });
      return () => queue.add(() => undefined);
    },
  },
  {
    name: 'bottleneck',
    make: () => {
      const limiter = new Bottleneck({ maxConcurrent: HIGH });
      return () => limiter.schedule(() => Promise.resolve());
    },
  },
  {
    name: 'rate-limiter-flexible (memory)',
    make: () => {
      const limiter = new RateLimiterMemory({ points: HIGH, duration: 60 });
      return () => limiter.consume('k', 1);
    },
  },
  {
    name: 'cockatiel bulkhead',
    make: () => {
      const b = bulkhead(HIGH, HIGH);
      return () => b.execute(() => undefined);
    },
  },
  {
    name: 'limiter',
    make: () => {
      const limiter = new RateLimiter({ tokensPerInterval: HIGH, interval: 'minute' });
      return () => limiter.removeTokens(1);
    },
  },
];

/** Awaits each call before the next; stops early after `budgetMs` (slow limiters), rating what it did. */
async function serial(fn: () => Promise<unknown>, n: number, budgetMs = 3_000): Promise<number> {
  const start = performance.now();
  let i = 0;
  for (; i < n; i++) {
    await fn();
    if ((i & 63) === 0 && performance.now() - start > budgetMs) break;
  }
  return (i + (i < n ? 1 : 0)) / ((performance.now() - start) / 1000);
}

async function burst(fn: () => Promise<unknown>, n: number): Promise<number> {
  const start = performance.now();
  const all: Promise<unknown>[] = new Array(n);
  for (let i = 0; i < n; i++) all[i] = fn();
  await Promise.all(all);
  return n / ((performance.now() - start) / 1000);
}

export async function overhead(options: BenchOptions): Promise<SectionResult> {
  const n = options.quick ? 5_000 : 100_000;
  const runs = options.quick ? 1 : 3;
  const rows: { name: string; serial: Sample; burst: Sample; burstSize: number }[] = [];
  for (const c of contenders) {
    const fn = c.make();
    // Warm up, and size the burst so a slow limiter finishes it in about two seconds.
    const pilot = await burst(fn, 1_000);
    await serial(fn, Math.min(n, 5_000), 500);
    const burstSize = Math.max(1_000, Math.min(n, Math.round(pilot * 2)));
    const s = await repeat(runs, () => serial(c.make(), n));
    const b = await repeat(runs, () => burst(c.make(), burstSize));
    rows.push({ name: c.name, serial: s, burst: b, burstSize });
    options.log(`  overhead: ${c.name}: ${fmt.rate(s.median)}/s awaited, ${fmt.rate(b.median)}/s at once`);
  }
  const base = rows[0]!;
  const plimit = rows.find((r) => r.name === 'p-limit')!;
  const tollgate = rows.find((r) => r.name === THREE_LIMITS)!;
  const instrumented = rows.find((r) => r.name === INSTRUMENTED)!;
  const kept = instrumented.serial.median / tollgate.serial.median;
  const header = [
    'limiter',
    'one caller (ops/s)',
    'vs p-limit',
    'vs baseline',
    'all at once (ops/s)',
    'vs p-limit',
    'vs baseline',
    'calls at once',
  ];
  const cells = rows.map((r) => [
    r.name,
    fmt.range(r.serial, fmt.rate),
    fmt.ratio(r.serial.median / plimit.serial.median),
    fmt.ratio(r.serial.median / base.serial.median),
    fmt.range(r.burst, fmt.rate),
    fmt.ratio(r.burst.median / plimit.burst.median),
    fmt.ratio(r.burst.median / base.burst.median),
    r.burstSize,
  ]);
  const ratio = tollgate.serial.median / plimit.serial.median;
  const cockatiel = rows.find((r) => r.name === 'cockatiel bulkhead')!;
  const flexible = rows.find((r) => r.name === 'rate-limiter-flexible (memory)')!;
  const one = rows.find((r) => r.name === ONE_LIMIT)!;
  const vsBulkhead = tollgate.serial.median / cockatiel.serial.median;
  const vsFlexible = one.serial.median / flexible.serial.median;
  return {
    name: 'overhead',
    title: 'Overhead: acquire + release per second, limits never blocking',
    data: { calls: n, runs, rows },
    table: table(header, cells),
    markdown: markdown(header, cells),
    goals: [
      { goal: 'one caller: at least 1.5x p-limit', met: ratio >= 1.5, value: fmt.ratio(ratio) },
      {
        goal: 'one caller, 1 concurrency + 2 rate limits: at least cockatiel bulkhead',
        met: vsBulkhead >= 1,
        value: fmt.ratio(vsBulkhead),
      },
      {
        goal: 'one caller, 1 rate limit: at least rate-limiter-flexible (memory)',
        met: vsFlexible >= 1,
        value: fmt.ratio(vsFlexible),
      },
      {
        goal: 'instrument keeps at least half of the acquire + release rate (one caller)',
        met: kept >= 0.5,
        value: `${fmt.pct(kept)} (${fmt.rate(instrumented.serial.median)}/s against ${fmt.rate(tollgate.serial.median)}/s)`,
      },
    ],
  };
}
