import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HybridAgent } from '@tollgate/agents';
import { HeuristicTokenCounter } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { ScriptedClient } from '@tollgate/llm-clients';
import {
  type BenchOptions,
  fmt,
  markdown,
  repeat,
  type Sample,
  type SectionResult,
  sample,
  table,
} from './common.js';

class Worker extends HybridAgent {
  readonly systemPrompt = 'Work.';
}

interface Run {
  readonly throughput: number;
  readonly p50: number;
  readonly p99: number;
  readonly bytesPerWaiting: number;
  readonly maxQueued: number;
}

/** A fleet of `agents` on one ScriptedClient, sharing a provider quota of half the fleet per second. */
function fleetOf(agents: number) {
  const counter = new HeuristicTokenCounter();
  const client = new ScriptedClient({
    tokenCounter: counter,
    delayMs: 20,
    script: () => ({ content: 'ok' }),
  });
  // The shared quota admits half the fleet per second, so most calls wait in its queue.
  const provider = new ResourceGovernor({
    rates: [
      { resource: 'requests', limit: Math.max(1, agents / 2), windowMs: 1_000, algorithm: 'sliding-window' },
    ],
    resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
  });
  const fleet = Array.from(
    { length: agents },
    (_, i) => new Worker({ client, tokenCounter: counter, providerGovernor: provider, agentId: `a${i}` }),
  );
  const dispose = () => {
    for (const a of fleet) a.dispose();
    provider.dispose();
  };
  return { provider, fleet, dispose };
}

/** Every agent runs one task: throughput and loop delay. */
async function once(agents: number): Promise<Run> {
  const { fleet, dispose } = fleetOf(agents);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const start = performance.now();
  const results = await Promise.all(fleet.map((a) => a.executeTask('go')));
  const seconds = (performance.now() - start) / 1000;
  delay.disable();
  dispose();
  if (results.some((r) => !r.ok)) throw new Error('a scale task failed');
  return {
    throughput: agents / seconds,
    p50: delay.percentile(50) / 1e6,
    p99: delay.percentile(99) / 1e6,
    ...(await waitingBytes(agents)),
  };
}

/**
 * What one waiting agent call keeps: the provider is in a cooldown, so every agent's call
 * waits in its queue; the heap after a full collection, less the heap (collected) before
 * the tasks started, per waiting call. It counts what an agent makes on its first task.
 */
async function waitingBytes(agents: number): Promise<Pick<Run, 'bytesPerWaiting' | 'maxQueued'>> {
  const { provider, fleet, dispose } = fleetOf(agents);
  provider.cooldown(3_600_000, 'closed while the bench measures its queue');
  collect();
  const before = process.memoryUsage().heapUsed;
  let settled = 0;
  const tasks = fleet.map((a) => a.executeTask('go').finally(() => settled++));
  while (provider.queued < agents && settled === 0) await sleep(20);
  const queued = provider.queued;
  collect();
  const heap = process.memoryUsage().heapUsed;
  dispose(); // the waiting calls end, refused
  await Promise.all(tasks);
  const bytesPerWaiting = queued === agents ? Math.max(0, heap - before) / queued : Number.NaN;
  return { bytesPerWaiting, maxQueued: queued };
}

/** A full garbage collection (V8's `gc`, exposed for this process). */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

/**
 * `waiters` acquires on the provider governor alone (no agents, no client): its own cost per
 * waiting call. The quota admits half of them at once and the rest a window later; each
 * releases once admitted. The window (1 s per 10,000 waiters) outlasts the loop that makes
 * the calls, even on a slow machine, so the other half is still queued when it ends.
 */
async function waitersOnce(waiters: number): Promise<Run> {
  const windowMs = Math.max(1_000, waiters / 10);
  const provider = new ResourceGovernor({
    rates: [{ resource: 'requests', limit: Math.max(1, waiters / 2), windowMs, algorithm: 'sliding-window' }],
    resourceWaitTimeoutSeconds: Number.POSITIVE_INFINITY,
  });
  collect();
  const before = process.memoryUsage().heapUsed;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const start = performance.now();
  const calls: Promise<void>[] = new Array(waiters);
  for (let i = 0; i < waiters; i++)
    calls[i] = provider.acquire({ requests: 1 }).then((lease) => lease.release());
  // Everyone past the first window's quota is queued now: the deepest the queue gets.
  const maxQueued = provider.queued;
  // What the waiters keep, not the garbage of getting there; the collection itself is the
  // bench's, so the loop delay does not count it.
  delay.disable();
  collect();
  const peakHeap = process.memoryUsage().heapUsed;
  delay.enable();
  await Promise.all(calls);
  const seconds = (performance.now() - start) / 1000;
  delay.disable();
  provider.dispose();
  return {
    throughput: waiters / seconds,
    p50: delay.percentile(50) / 1e6,
    p99: delay.percentile(99) / 1e6,
    bytesPerWaiting: maxQueued > 0 ? Math.max(0, peakHeap - before) / maxQueued : 0,
    maxQueued,
  };
}

interface Row {
  readonly name: string;
  readonly agents: number;
  readonly throughput: Sample;
  readonly p50: Sample;
  readonly p99: Sample;
  readonly bytes: Sample;
}

async function measure(
  name: string,
  size: number,
  runs: number,
  run: (n: number) => Promise<Run>,
): Promise<Row> {
  const got: Run[] = [];
  const throughput = await repeat(runs, async () => {
    const r = await run(size);
    got.push(r);
    return r.throughput;
  });
  const p50 = sample(got.map((r) => r.p50));
  const p99 = sample(got.map((r) => r.p99));
  const bytes = sample(got.map((r) => r.bytesPerWaiting));
  return { name, agents: size, throughput, p50, p99, bytes };
}

export async function scale(options: BenchOptions): Promise<SectionResult> {
  const sizes = options.quick ? [200, 1_000] : [1_000, 10_000];
  const waiters = options.quick ? 10_000 : 100_000;
  const runs = options.quick ? 1 : 3;
  const rows: Row[] = [];
  for (const agents of sizes) {
    const row = await measure(`${agents} agents`, agents, runs, once);
    rows.push(row);
    options.log(
      `  scale: ${row.name}: ${fmt.rate(row.throughput.median)} tasks/s, loop delay p99 ${fmt.ms(row.p99.median)}`,
    );
  }
  const alone = await measure(`${waiters} waiting acquires (governor alone)`, waiters, runs, waitersOnce);
  rows.push(alone);
  options.log(
    `  scale: ${alone.name}: ${fmt.rate(alone.throughput.median)} calls/s, loop delay p99 ${fmt.ms(alone.p99.median)}`,
  );
  const header = [
    'callers',
    'tasks/s',
    'event-loop delay p50',
    'p99',
    'memory per waiting call (after a full GC)',
  ];
  const cells = rows.map((r) => [
    r.name,
    fmt.range(r.throughput, fmt.rate),
    fmt.range(r.p50, fmt.ms),
    fmt.range(r.p99, fmt.ms),
    fmt.range(r.bytes, (b) => `${(b / 1024).toFixed(1)} KiB`),
  ]);
  const largest = rows.find((r) => r.agents === sizes.at(-1))!;
  return {
    name: 'scale',
    title: 'Scale: concurrent agents on the ScriptedClient in one process',
    data: { runs, rows },
    table: table(header, cells),
    markdown: markdown(header, cells),
    goals: options.quick
      ? []
      : [
          {
            goal: '10,000 agents: event-loop delay p99 under 20 ms',
            met: largest.p99.median < 20,
            value: fmt.ms(largest.p99.median),
          },
          {
            goal: '10,000 agents: event-loop delay p99 under 10 ms',
            met: largest.p99.median < 10,
            value: fmt.ms(largest.p99.median),
          },
          {
            goal: '10,000 agents: under 8 KiB per waiting call',
            met: largest.bytes.median < 8 * 1024,
            value: `${(largest.bytes.median / 1024).toFixed(1)} KiB`,
          },
        ],
  };
}
