// Gateway section: the latency and throughput the gateway adds over calling the provider
// directly, and a storm of provider 429s in which every request still gets an answer.
import { silentLogger } from '@tollgate/core';
import { type Gateway, startGateway } from '@tollgate/gateway';
import { type Simulator, startSimulator } from '@tollgate/simulator';
import { type BenchOptions, fmt, markdown, type SectionResult, table } from './common.js';

const KEY = 'tg-bench-key-0123456789abcdef';
const BODY = JSON.stringify({
  model: 'sim-small',
  messages: [{ role: 'user', content: 'hello' }],
  max_tokens: 16,
});

interface Load {
  readonly requests: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly statuses: Record<string, number>;
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;

/** What one load run saw, before it is summed up (runs of one path are merged). */
interface Run {
  readonly latencies: number[];
  readonly statuses: Record<string, number>;
  readonly elapsedMs: number;
}

/** Several runs of one path as one: requests per second over their summed time, percentiles over all. */
function summarize(runs: readonly Run[]): Load {
  const latencies = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const elapsed = runs.reduce((t, r) => t + r.elapsedMs, 0);
  const statuses: Record<string, number> = {};
  for (const r of runs) for (const [k, v] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  return {
    requests: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    statuses,
  };
}

/** `concurrency` workers posting chat completions to `baseURL` for `durationMs` (or `total` requests). */
async function load(
  baseURL: string,
  concurrency: number,
  until: { durationMs?: number; total?: number },
): Promise<Load> {
  return summarize([await run(baseURL, concurrency, until)]);
}

async function run(
  baseURL: string,
  concurrency: number,
  until: { durationMs?: number; total?: number },
): Promise<Run> {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const started = performance.now();
  let issued = 0;
  const more = () =>
    until.total !== undefined ? issued < until.total : performance.now() - started < (until.durationMs ?? 0);
  const worker = async () => {
    while (more()) {
      issued++;
      const t = performance.now();
      let status: string;
      try {
        const res = await fetch(`${baseURL}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
          body: BODY,
        });
        await res.arrayBuffer();
        status = String(res.status);
      } catch {
        status = 'no answer';
      }
      latencies.push(performance.now() - t);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, statuses, elapsedMs: performance.now() - started };
}

async function gatewayFor(
  sim: Simulator,
  maxAttempts = 3,
  transport: 'agent' | 'fetch' = 'agent',
): Promise<Gateway> {
  return startGateway(
    {
      port: 0,
      docs: false,
      upstream: {
        baseUrl: sim.baseURL,
        apiKey: 'sk-bench',
        maxAttempts,
        transport,
        limits: { maxRequestsPerMinute: 10_000_000, maxTokensPerMinute: 1e12 },
      },
      keys: [{ name: 'bench', key: KEY, limits: { maxRequestsPerMinute: 10_000_000 } }],
    },
    { logger: silentLogger },
  );
}

async function overheadRows(options: BenchOptions) {
  const sim = await startSimulator({ latency: { ttftMs: 0, perTokenMs: 0, jitter: 0 } });
  // The upstream over a keep-alive node:http agent (the default), and over fetch, in one run.
  const gw = await gatewayFor(sim);
  const viaFetch = await gatewayFor(sim, 3, 'fetch');
  try {
    const durationMs = options.quick ? 500 : 6_000;
    const paths = [sim.baseURL, gw.baseURL, viaFetch.baseURL];
    for (const url of paths) await load(url, 4, { total: 50 }); // warm up
    // Rounds in turn, the order rotated each round: a machine whose load drifts during the
    // run weighs on every path alike, so the ratios between them hold.
    const runs: Run[][] = [[], [], []];
    const rounds = 3;
    for (let round = 0; round < rounds; round++)
      for (let k = 0; k < paths.length; k++) {
        const i = (k + round) % paths.length;
        runs[i]!.push(await run(paths[i]!, 16, { durationMs: durationMs / rounds }));
      }
    const [direct, through, throughFetch] = runs.map(summarize) as [Load, Load, Load];
    return { direct, through, throughFetch };
  } finally {
    await gw.close();
    await viaFetch.close();
    await sim.close();
  }
}

async function storm(options: BenchOptions) {
  const sim = await startSimulator({
    latency: { ttftMs: 1, perTokenMs: 0, jitter: 0 },
    faults: { foreign429: 0.5, foreign429RetryAfterMs: 20 },
  });
  const gw = await gatewayFor(sim, 5);
  try {
    const total = options.quick ? 100 : 1_000;
    const result = await load(gw.baseURL, 32, { total });
    return {
      total,
      result,
      upstream429s: sim.stats().faults.foreign429,
      upstreamAdmitted: sim.stats().admitted,
    };
  } finally {
    await gw.close();
    await sim.close();
  }
}

export async function gateway(options: BenchOptions): Promise<SectionResult> {
  options.log('gateway: overhead against the simulator directly, then a storm of upstream 429s');
  const { direct, through, throughFetch } = await overheadRows(options);
  const s = await storm(options);
  const answered = Object.entries(s.result.statuses)
    .filter(([status]) => status !== 'no answer')
    .reduce((n, [, c]) => n + c, 0);
  const header = ['path', 'requests', 'req/s', 'p50', 'p99', 'answers', 'req/s vs direct'];
  const row = (path: string, l: Load, vsDirect: string) => [
    path,
    l.requests,
    fmt.rate(l.perSecond),
    fmt.ms(l.p50Ms),
    fmt.ms(l.p99Ms),
    Object.entries(l.statuses)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', '),
    vsDirect,
  ];
  const ratio = (l: Load) => `${((l.perSecond / direct.perSecond) * 100).toFixed(0)}%`;
  const rows = [
    row('simulator directly (16 concurrent)', direct, '100%'),
    row('through the gateway, upstream over a keep-alive agent (16 concurrent)', through, ratio(through)),
    row('through the gateway, upstream over fetch (16 concurrent)', throughFetch, ratio(throughFetch)),
    row('gateway, upstream answering 50% 429 (32 concurrent)', s.result, ''),
  ];
  return {
    name: 'gateway',
    title: 'Gateway: overhead over calling the provider directly, and a 429 storm',
    data: { direct, through, throughFetch, storm: s },
    table: table(header, rows),
    markdown: markdown(header, rows),
    goals: [
      {
        goal: 'every request of the 429 storm answered',
        met: answered === s.total,
        value: `${answered} of ${s.total}`,
      },
    ],
  };
}
