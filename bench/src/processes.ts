import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TiktokenCounter } from '@tollgate/core';
import { startSimulator } from '@tollgate/simulator';
import { startRedis } from '../../packages/limits/src/test-support/redisServer.js';
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
import type { WorkerResult, WorkerRun } from './quotaWorker.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

/** One shape of provider: its window, its latency, and the calls made against it. */
interface Setup {
  readonly label: string;
  readonly rpm: number;
  readonly windowMs: number;
  /** Time to first token, ms (jittered by `jitter`). */
  readonly ttftMs: number;
  readonly jitter: number;
  readonly calls: number;
}

interface Outcome {
  readonly makespanMs: number;
  readonly admissionSpanMs: number;
  readonly rateLimited: number;
  readonly failed: number;
  readonly maxInWindow: number;
  /** Median ms from a call's grant to the provider counting it: its way there, one per window cycle. */
  readonly transitMs: number;
  /** Median ms from a window's end (an admission plus the window) to the grant it frees. */
  readonly wakeMs: number;
}

const median = (xs: readonly number[]) => sample(xs.length > 0 ? xs : [0]).median;

/**
 * Where each window cycle goes beyond the window. The k-th admission (in order, across
 * every process) leaves the provider's window one window later, and that lets in the
 * (k + rpm)-th grant: the time from the window's end to that grant is the wake-up (the
 * hold's end reaching the quota, a timer, store round trips); the time from a grant to the
 * provider counting the call is its way there (the client, the HTTP stack, the provider
 * reading the request). Admissions are as the replies tell (`openai-processing-ms`).
 */
function cycle(results: readonly WorkerResult[], setup: Setup): { transitMs: number; wakeMs: number } {
  const grants = results.flatMap((r) => r.holds.map(([granted]) => granted)).sort((a, b) => a - b);
  const admitted = results.flatMap((r) => r.admissions).sort((a, b) => a - b);
  const n = Math.min(grants.length, admitted.length);
  const wakes: number[] = [];
  const transits: number[] = [];
  for (let i = 0; i < n; i++) {
    transits.push(admitted[i]! - grants[i]!);
    if (i >= setup.rpm) wakes.push(grants[i]! - admitted[i - setup.rpm]! - setup.windowMs);
  }
  return { transitMs: median(transits), wakeMs: median(wakes) };
}

/** A worker process, driven over IPC (see quotaWorker.ts). */
class Worker {
  readonly child: ChildProcess;
  readonly #messages: Array<{ type: string; result?: WorkerResult; message?: string }> = [];
  #waiting: (() => void) | undefined;

  constructor() {
    this.child = spawn(
      process.execPath,
      ['--import', 'tsx', '--conditions=@tollgate/source', join(here, 'quotaWorker.ts')],
      {
        cwd: root,
        env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.tests.json') },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    );
    this.child.on('message', (m: { type: string }) => {
      this.#messages.push(m);
      this.#waiting?.();
    });
  }

  /** The next message of `type` (an `error` message throws). */
  async next(type: string): Promise<{ result?: WorkerResult }> {
    for (;;) {
      const m = this.#messages.shift();
      if (m?.type === 'error') throw new Error(`bench worker: ${m.message}`);
      if (m?.type === type) return m;
      if (m === undefined) await new Promise<void>((resolve) => (this.#waiting = resolve));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.send({ type: 'exit' });
    await exited;
  }
}

async function runOnce(
  workers: readonly Worker[],
  setup: Setup,
  redisUrl: string,
  n: number,
): Promise<Outcome> {
  const counter = new TiktokenCounter();
  counter.countText('warm up');
  const sim = await startSimulator({
    quota: { requestsPerWindow: setup.rpm, windowMs: setup.windowMs },
    latency: { ttftMs: setup.ttftMs, perTokenMs: 0.1, jitter: setup.jitter },
    tokenCounter: counter,
  });
  try {
    const quota = `bench-processes-${process.pid}-${n}`;
    const share = (i: number) =>
      Math.floor(setup.calls / workers.length) + (i < setup.calls % workers.length ? 1 : 0);
    await Promise.all(
      workers.map((w, i) => {
        const run: WorkerRun = {
          redisUrl,
          simUrl: sim.url,
          quota,
          rpm: setup.rpm,
          windowMs: setup.windowMs,
          calls: share(i),
          maxTokens: 20,
        };
        w.child.send({ type: 'prepare', run });
        return w.next('prepared');
      }),
    );
    sim.reset();
    const startAt = Date.now() + 100;
    for (const w of workers) w.child.send({ type: 'go', startAt });
    const results = (await Promise.all(workers.map((w) => w.next('done')))).map((m) => m.result!);
    const stats = sim.stats();
    return {
      makespanMs: Math.max(...results.map((r) => r.lastDone)) - Math.min(...results.map((r) => r.firstSent)),
      admissionSpanMs: (stats.lastAdmissionMs ?? 0) - (stats.firstAdmissionMs ?? 0),
      rateLimited: stats.rateLimited,
      failed: results.reduce((s, r) => s + r.failed, 0),
      maxInWindow: stats.maxRequestsInWindow,
      ...cycle(results, setup),
    };
  } finally {
    await sim.close();
  }
}

function setups(quick: boolean): Setup[] {
  if (quick)
    return [
      { label: '250 ms window, 5 ms latency', rpm: 10, windowMs: 250, ttftMs: 5, jitter: 0.5, calls: 40 },
    ];
  return [
    { label: '250 ms window, 5 ms latency', rpm: 10, windowMs: 250, ttftMs: 5, jitter: 0.5, calls: 200 },
    { label: '1 s window, 5 ms latency', rpm: 10, windowMs: 1_000, ttftMs: 5, jitter: 0.5, calls: 120 },
    { label: '1 s window, 50 ms latency', rpm: 10, windowMs: 1_000, ttftMs: 50, jitter: 0.5, calls: 120 },
  ];
}

export async function processes(options: BenchOptions): Promise<SectionResult> {
  let server: Awaited<ReturnType<typeof startRedis>>;
  try {
    server = await startRedis();
  } catch (error) {
    const why = (error as Error).message;
    const title = 'Quota use across worker processes on one Redis quota';
    return {
      name: 'processes',
      title,
      data: { skipped: why },
      table: `skipped: ${why}`,
      markdown: `Skipped: ${why}`,
      goals: [],
      skipped: why,
    };
  }
  const runs = options.quick ? 1 : 3;
  const rows: {
    setup: Setup;
    workers: number;
    minimumMs: number;
    span: Sample;
    makespan: Sample;
    rateLimited: Sample;
    failed: number;
    maxInWindow: number;
    transitMs: number;
    wakeMs: number;
  }[] = [];
  let n = 0;
  try {
    for (const k of [1, 2, 4]) {
      const workers = Array.from({ length: k }, () => new Worker());
      try {
        await Promise.all(workers.map((w) => w.next('ready')));
        for (const setup of setups(options.quick)) {
          const outcomes: Outcome[] = [];
          const span = await repeat(runs, async () => {
            const o = await runOnce(workers, setup, server.url, n++);
            outcomes.push(o);
            return o.admissionSpanMs;
          });
          const minimumMs = (Math.ceil(setup.calls / setup.rpm) - 1) * setup.windowMs;
          const row = {
            setup,
            workers: k,
            minimumMs,
            span,
            makespan: sample(outcomes.map((o) => o.makespanMs)),
            rateLimited: sample(outcomes.map((o) => o.rateLimited)),
            failed: outcomes.reduce((s, o) => s + o.failed, 0),
            maxInWindow: Math.max(...outcomes.map((o) => o.maxInWindow)),
            transitMs: median(outcomes.map((o) => o.transitMs)),
            wakeMs: median(outcomes.map((o) => o.wakeMs)),
          };
          rows.push(row);
          options.log(
            `  processes: ${k} x, ${setup.label}: quota used ${fmt.pct(minimumMs / span.median)}, makespan ${fmt.ratio(row.makespan.median / minimumMs)} the minimum, ${row.rateLimited.max} x 429`,
          );
        }
      } finally {
        await Promise.all(workers.map((w) => w.stop()));
      }
    }
  } finally {
    await server.stop();
  }
  const header = [
    'processes',
    'provider',
    'calls',
    'minimum',
    'admissions span',
    'quota used',
    'makespan / minimum',
    'wake-up + way to the provider, per cycle',
    '429s',
    'failed',
  ];
  const cells = rows.map((r) => [
    r.workers,
    `${r.setup.rpm} per ${r.setup.label}`,
    r.setup.calls,
    `${r.minimumMs} ms`,
    fmt.range(r.span, fmt.ms),
    r.failed > 0 ? 'n/a' : fmt.pct(r.minimumMs / r.span.median),
    fmt.ratio(r.makespan.median / r.minimumMs),
    `${fmt.ms(r.wakeMs)} + ${fmt.ms(r.transitMs)}`,
    fmt.range(r.rateLimited, (x) => x.toFixed(0)),
    r.failed,
  ]);
  const multi = rows.filter((r) => r.workers > 1);
  const worst = Math.min(...multi.map((r) => r.minimumMs / r.span.median));
  const most429 = Math.max(...rows.map((r) => r.rateLimited.max));
  return {
    name: 'processes',
    title: 'Quota use across worker processes on one Redis quota',
    data: { runs, rows },
    table: table(header, cells),
    markdown: markdown(header, cells),
    goals: [
      { goal: 'several processes: quota used at least 97%', met: worst >= 0.97, value: fmt.pct(worst) },
      { goal: 'several processes: zero 429s', met: most429 === 0, value: `${most429}` },
    ],
  };
}
