import { performance } from 'node:perf_hooks';
import { ResourceGovernor } from '@tollgate/limits';
import Bottleneck from 'bottleneck';
import { RateLimiter } from 'limiter';
import PQueue from 'p-queue';
import { RateLimiterMemory, RateLimiterQueue } from 'rate-limiter-flexible';
import { type BenchOptions, markdown, type SectionResult, sleep, table } from './common.js';

const RATE = 100; // per second, for every limiter
const WINDOW = 1_000;
/** Stamps are taken when the caller may go ahead, a fraction of a millisecond after the limiter decides. */
const TOLERANCE_MS = 1;

interface Limiter {
  readonly name: string;
  /** Resolves when admitted; `stop` abandons whatever is still waiting. */
  /** `take(admitted)`: `admitted` is called the moment the caller may go ahead. */
  readonly make: () => { take: (admitted: () => void) => Promise<unknown>; stop: () => void };
}

/** Takes one request held until the caller goes ahead, then settled (as against a provider). */
function heldUntilAdmitted(g: ResourceGovernor): ReturnType<Limiter['make']> {
  return {
    take: async (admitted) => {
      const lease = await g.acquire({ requests: 1 }, { holdUntilSettled: true });
      admitted();
      lease.settle({ requests: 1 });
    },
    stop: () => g.dispose(),
  };
}

const limiters: readonly Limiter[] = [
  {
    name: 'tollgate sliding-window',
    make: () => {
      const g = new ResourceGovernor({
        rates: [{ resource: 'requests', limit: RATE, windowMs: WINDOW, algorithm: 'sliding-window' }],
        resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
      });
      // A strict window counts from when the caller goes ahead (as the governed client does
      // with a provider): hold the reservation until the caller runs, then settle it.
      return heldUntilAdmitted(g);
    },
  },
  {
    name: 'tollgate token-bucket',
    make: () => {
      const g = new ResourceGovernor({
        rates: [{ resource: 'requests', limit: RATE, windowMs: WINDOW, algorithm: 'token-bucket' }],
        resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
      });
      // Held like the sliding window's: the bound is checked on when callers go ahead, and a
      // burst's callers go ahead a few ms after the bucket grants them (they run one by one).
      return heldUntilAdmitted(g);
    },
  },
  {
    name: 'p-queue (intervalCap)',
    make: () => {
      const q = new PQueue({ intervalCap: RATE, interval: WINDOW });
      return { take: (admitted) => q.add(admitted), stop: () => q.clear() };
    },
  },
  {
    name: 'bottleneck (reservoir)',
    make: () => {
      const b = new Bottleneck({
        reservoir: RATE,
        reservoirRefreshAmount: RATE,
        reservoirRefreshInterval: WINDOW,
      });
      return {
        take: (admitted) => b.schedule(async () => admitted()),
        stop: () => void b.stop({ dropWaitingJobs: true }).catch(() => {}),
      };
    },
  },
  {
    name: 'rate-limiter-flexible (queue)',
    make: () => {
      const q = new RateLimiterQueue(new RateLimiterMemory({ points: RATE, duration: WINDOW / 1000 }), {
        maxQueueSize: 100_000,
      });
      return { take: (admitted) => q.removeTokens(1).then(admitted), stop: () => {} };
    },
  },
  {
    name: 'limiter',
    make: () => {
      const l = new RateLimiter({ tokensPerInterval: RATE, interval: 'second' });
      return { take: (admitted) => l.removeTokens(1).then(admitted), stop: () => {} };
    },
  },
];

/** The most admissions inside any window of `span` starting at an admission. */
export function maxInWindow(times: readonly number[], span: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let j = 0;
  for (let i = 0; i < sorted.length; i++) {
    while (sorted[i]! - sorted[j]! >= span) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

type Pattern = 'burst' | 'edge';

async function runPattern(limiter: Limiter, pattern: Pattern, durationMs: number): Promise<number[]> {
  // Warm the limiter's code first, so the measured burst is not slowed by compilation.
  const warm = limiter.make();
  const warmed = Array.from({ length: 150 }, () => warm.take(() => {}).catch(() => {}));
  await Promise.race([Promise.all(warmed), sleep(50)]);
  warm.stop();
  const { take, stop } = limiter.make();
  const start = performance.now();
  const admitted: number[] = [];
  const submit = (count: number) => {
    for (let i = 0; i < count; i++)
      take(() => {
        const t = performance.now() - start;
        if (t < durationMs) admitted.push(t);
      }).catch(() => {});
  };
  if (pattern === 'burst') submit(1_000);
  else {
    submit(1);
    await sleep(900);
    submit(1_000);
  }
  await sleep(durationMs - (performance.now() - start));
  stop();
  return admitted;
}

export async function accuracy(options: BenchOptions): Promise<SectionResult> {
  const durationMs = options.quick ? 2_000 : 3_000;
  const runs = options.quick ? 1 : 3;
  const ideal = RATE * Math.ceil(durationMs / WINDOW);
  const rows: { name: string; pattern: Pattern; maxInAnyWindow: number; admitted: number; share: number }[] =
    [];
  for (let run = 0; run < runs; run++) {
    // One at a time: admissions are stamped when the caller's code runs, and another
    // limiter's synchronous work in the same tick would delay those stamps. The quick mode
    // (a shape check) runs them all at once to stay fast, and its numbers are rougher.
    const jobs = limiters.flatMap((l) => (['burst', 'edge'] as const).map((p) => ({ l, p })));
    const concurrent = options.quick ? jobs.map((j) => runPattern(j.l, j.p, durationMs)) : undefined;
    for (const [index, job] of jobs.entries()) {
      const times = await (concurrent ? concurrent[index]! : runPattern(job.l, job.p, durationMs));
      rows.push({
        name: job.l.name,
        pattern: job.p,
        maxInAnyWindow: maxInWindow(times, WINDOW - TOLERANCE_MS),
        admitted: times.length,
        share: times.length / ideal,
      });
    }
  }
  // Report the worst run of each limiter and pattern.
  const worst = new Map<string, (typeof rows)[number]>();
  for (const r of rows) {
    const key = `${r.name}/${r.pattern}`;
    const w = worst.get(key);
    if (
      !w ||
      r.maxInAnyWindow > w.maxInAnyWindow ||
      (r.maxInAnyWindow === w.maxInAnyWindow && r.admitted < w.admitted)
    )
      worst.set(key, r);
  }
  const list = [...worst.values()];
  const header = ['limiter (100/s)', 'pattern', 'most in any 1 s', 'admitted', `of ${ideal} ideal`];
  const cells = list.map((r) => [
    r.name,
    r.pattern,
    r.maxInAnyWindow,
    r.admitted,
    `${(r.share * 100).toFixed(1)}%`,
  ]);
  const sliding = list.filter((r) => r.name === 'tollgate sliding-window');
  const bucket = list.filter((r) => r.name === 'tollgate token-bucket');
  const slidingMax = Math.max(...sliding.map((r) => r.maxInAnyWindow));
  const slidingShare = Math.min(...sliding.map((r) => r.share));
  const bucketMax = Math.max(...bucket.map((r) => r.maxInAnyWindow));
  for (const r of list)
    options.log(`  accuracy: ${r.name} ${r.pattern}: max ${r.maxInAnyWindow} in 1 s, ${r.admitted} admitted`);
  return {
    name: 'accuracy',
    title: 'Accuracy: 100 per second, two arrival patterns',
    data: { rate: RATE, windowMs: WINDOW, durationMs, runs, ideal, rows },
    table: table(header, cells),
    markdown: markdown(header, cells),
    goals: [
      {
        goal: 'sliding window never exceeds the limit in any 1 s',
        met: slidingMax <= RATE,
        value: `max ${slidingMax}`,
      },
      {
        goal: 'sliding window admits at least 99% of the quota',
        met: slidingShare >= 0.99,
        value: `${(slidingShare * 100).toFixed(1)}%`,
      },
      {
        goal: 'token bucket stays within capacity + rate x window',
        met: bucketMax <= RATE + RATE,
        value: `max ${bucketMax} (bound ${RATE * 2})`,
      },
    ],
  };
}
