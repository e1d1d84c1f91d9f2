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

/** `concurrency` workers posting chat completions to `baseURL` for `durationMs` (or `total` requests). */
async function load(
  baseURL: string,
  concurrency: number,
  until: { durationMs?: number; total?: number },
): Promise<Load> {
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
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    perSecond: (latencies.length / elapsed) * 1000,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    statuses,
  };
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
    const durationMs = options.quick ? 500 : 5_000;
    for (const url of [gw.baseURL, viaFetch.baseURL, sim.baseURL]) await load(url, 4, { total: 50 }); // warm up
    const direct = await load(sim.baseURL, 16, { durationMs });
    const through = await load(gw.baseURL, 16, { durationMs });
    const throughFetch = await load(viaFetch.baseURL, 16, { durationMs });
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
  const ratio = (l: Load) => `${((l.perSecond / direct.perSecond) * 100).toFixed(0)}%`;
  const answers = (l: Load) =>
    Object.entries(l.statuses)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', ');
  const rows = [
    [
      'simulator directly (16 concurrent)',
      direct.requests,
      fmt.rate(direct.perSecond),
      fmt.ms(direct.p50Ms),
      fmt.ms(direct.p99Ms),
      answers(direct),
      '100%',
    ],
    [
      'through the gateway, upstream over a keep-alive agent (16 concurrent)',
      through.requests,
      fmt.rate(through.perSecond),
      fmt.ms(through.p50Ms),
      fmt.ms(through.p99Ms),
      answers(through),
      ratio(through),
    ],
    [
      'through the gateway, upstream over fetch (16 concurrent)',
      throughFetch.requests,
      fmt.rate(throughFetch.perSecond),
      fmt.ms(throughFetch.p50Ms),
      fmt.ms(throughFetch.p99Ms),
      answers(throughFetch),
      ratio(throughFetch),
    ],
    [
      'gateway, upstream answering 50% 429 (32 concurrent)',
      s.result.requests,
      fmt.rate(s.result.perSecond),
      fmt.ms(s.result.p50Ms),
      fmt.ms(s.result.p99Ms),
      answers(s.result),
      '',
    ],
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
