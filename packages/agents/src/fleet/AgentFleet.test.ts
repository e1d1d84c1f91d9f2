import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeuristicTokenCounter, ManualClock } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { QuotaExhaustedError, ScriptedClient, type ScriptedClientOptions } from '@tollgate/llm-clients';
import { describe, expect, it } from 'vitest';
import { HybridAgent } from '../agent/HybridAgent.js';
import { AgentFleet } from './AgentFleet.js';
import { FleetProgress } from './FleetProgress.js';
import { formatReport, writeReport } from './report.js';
import type { AgentFleetOptions, FleetEvent, FleetTask } from './types.js';

class Worker extends HybridAgent {
  readonly systemPrompt = 'Work.';
}

const counter = new HeuristicTokenCounter();
const tasks = (n: number, role?: string): FleetTask[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${role ?? 't'}${i + 1}`,
    input: `task ${i + 1}`,
    ...(role ? { role } : {}),
  }));

function setup(
  options: Partial<AgentFleetOptions> = {},
  script: ScriptedClientOptions['script'] = () => ({
    content: 'done',
    usage: { promptTokens: 80, completionTokens: 20 },
  }),
  delayMs = 0,
) {
  const clock = new ManualClock();
  const client = new ScriptedClient({ clock, tokenCounter: counter, script, delayMs });
  const provider = new ResourceGovernor({ maxRequestsPerMinute: 1_000 }, { clock, name: 'provider' });
  const fleet = new AgentFleet({
    clock,
    providerGovernor: provider,
    createAgent: (task) =>
      new Worker({
        client,
        clock,
        tokenCounter: counter,
        providerGovernor: provider,
        agentId: `agent-${task.id}`,
      }),
    ...options,
  });
  const events: FleetEvent[] = [];
  fleet.events$.subscribe((e) => events.push(e));
  return { clock, client, provider, fleet, events };
}

/** Lets a run that waits on the manual clock proceed, `stepMs` at a time, until it settles. */
async function drive<T>(clock: ManualClock, promise: Promise<T>, stepMs = 1_000): Promise<T> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10_000 && !done; i++) await clock.advanceAsync(stepMs);
  return promise;
}

describe('AgentFleet', () => {
  it('paces agent starts (layer 1) with the sliding window: never more than N starts in any minute', async () => {
    const { clock, fleet, events } = setup({ startsPerMinute: 3 });
    const report = await drive(clock, fleet.run(tasks(7)));
    const starts = events.flatMap((e) => (e.type === 'task-started' ? [e.at] : []));
    expect(starts).toEqual([0, 0, 0, 60_000, 60_000, 60_000, 120_000]);
    expect(report.stopReason).toBe('completed');
    expect(report.totals).toMatchObject({ tasks: 7, dispatched: 7, succeeded: 7, failed: 0, skipped: 0 });
    const startsLimit = report.limits.find((l) => l.name === 'agentStartsPerMinute')!;
    expect(startsLimit.used).toBe(7);
  });

  it('caps agents running at once fleet-wide, and reports per-agent rows and totals', async () => {
    const { clock, fleet, events, provider } = setup({ maxConcurrentAgents: 2 }, undefined, 1_000);
    let running = 0;
    let peak = 0;
    fleet.events$.subscribe((e) => {
      if (e.type === 'task-started') peak = Math.max(peak, ++running);
      if (e.type === 'task-finished') running--;
    });
    const report = await drive(clock, fleet.run(tasks(5)), 100);
    expect(peak).toBe(2);
    expect(report.durationMs).toBe(3_000);
    expect(report.agents.map((a) => a.agentId)).toEqual([
      'agent-t1',
      'agent-t2',
      'agent-t3',
      'agent-t4',
      'agent-t5',
    ]);
    expect(report.totals).toMatchObject({ agents: 5, llmCalls: 5, promptTokens: 400, completionTokens: 100 });
    expect(report.limits.find((l) => l.governor === 'provider')).toMatchObject({
      resource: 'requests',
      used: 5,
    });
    expect(events.at(-1)?.type).toBe('run-finished');
    expect(provider.checkResourceAvailability().queued).toBe(0);
  });

  it('stops dispatching before the next task would cross the token budget, warns first, and says why', async () => {
    const { clock, fleet, events } = setup({
      maxConcurrentAgents: 1,
      budget: { maxTokens: 350, warnAt: 0.5 },
      estimate: { promptTokens: 80, completionTokens: 20 },
    });
    const report = await drive(clock, fleet.run(tasks(6)));
    expect(report.stopReason).toBe('budget');
    expect(report.stopDetail).toMatch(
      /token budget: 200 spent, 400 projected with the next 1 task\(s\), cap 350/,
    );
    expect(report.totals).toMatchObject({ dispatched: 3, succeeded: 3, skipped: 3, totalTokens: 300 });
    expect(report.budget).toMatchObject({ maxTokens: 350, warned: true, stopped: true });
    const types = events.map((e) => e.type);
    expect(types.indexOf('budget-warning')).toBeLessThan(types.indexOf('budget-stop'));
    expect(report.agents.filter((a) => a.status === 'skipped').map((a) => a.taskId)).toEqual([
      't4',
      't5',
      't6',
    ]);
    expect(fleet.governor.activeTasks).toBe(0);
  });

  it('stops dispatch with quota-exhausted at the first QuotaExhaustedError; tasks not started are skipped', async () => {
    const quota = new QuotaExhaustedError('You exceeded your current quota', {
      provider: 'scripted',
      status: 429,
    });
    const { clock, client, fleet, events } = setup({ startsPerMinute: 2 }, (_request, call) =>
      call === 1 ? quota : { content: 'done', usage: { promptTokens: 80, completionTokens: 20 } },
    );
    const pending = fleet.run(tasks(6));
    let settled = false;
    void pending.then(() => (settled = true));
    // t1 and t2 start at once; t3 waits for the next minute's start slot, which it must not get.
    await clock.advanceAsync(0);
    expect(settled).toBe(true);
    const report = await pending;
    expect(report.stopReason).toBe('quota-exhausted');
    expect(report.stopDetail).toBe(quota.message);
    expect(report.totals).toMatchObject({ tasks: 6, dispatched: 2, succeeded: 1, failed: 1, skipped: 4 });
    expect(client.calls).toHaveLength(2);
    expect(events.flatMap((e) => (e.type === 'task-skipped' ? [[e.taskId, e.reason]] : []))).toEqual([
      ['t3', 'quota-exhausted'],
      ['t4', 'quota-exhausted'],
      ['t5', 'quota-exhausted'],
      ['t6', 'quota-exhausted'],
    ]);
    expect(events.filter((e) => e.type === 'dispatch-stopped')).toMatchObject([
      { reason: 'quota-exhausted', detail: quota.message },
    ]);
  });

  it('estimates the run before it starts, priced by the model', () => {
    const { fleet } = setup({
      model: 'gpt-4o-mini',
      estimate: { promptTokens: 1_000, completionTokens: 500 },
    });
    expect(fleet.estimate(50)).toEqual({
      tasks: 50,
      promptTokens: 50_000,
      completionTokens: 25_000,
      totalTokens: 75_000,
      cost: (50_000 * 0.15 + 25_000 * 0.6) / 1e6,
      model: 'gpt-4o-mini',
    });
  });

  it('cancels a run mid-way: in-flight calls aborted, nothing reserved, a partial report', async () => {
    const { clock, fleet, provider, client } = setup({ maxConcurrentAgents: 2 }, undefined, 10_000);
    const controller = new AbortController();
    const pending = fleet.run(tasks(5), { signal: controller.signal });
    await clock.advanceAsync(1_000);
    expect(client.calls).toHaveLength(2);
    controller.abort();
    const report = await pending;
    expect(report.stopReason).toBe('aborted');
    expect(report.agents.map((a) => a.status)).toEqual([
      'aborted',
      'aborted',
      'skipped',
      'skipped',
      'skipped',
    ]);
    expect(fleet.governor.activeTasks).toBe(0);
    expect(fleet.governor.queued).toBe(0);
    expect(provider.queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs rounds: ready tasks per role, dependent work unlocked by results, early exit when nothing is ready', async () => {
    const { clock, fleet, events } = setup({ maxConcurrentAgents: 4 });
    const research = tasks(3, 'researcher');
    const report = await drive(
      clock,
      fleet.runRounds({
        maxRounds: 10,
        batchSize: 2,
        roles: {
          researcher: {
            ready: (limit, { results }) =>
              research.filter((t) => !results.some((r) => r.taskId === t.id)).slice(0, limit),
          },
          writer: {
            ready: (_limit, { results }) =>
              results
                .filter(
                  (r) =>
                    r.taskId.startsWith('researcher') && !results.some((w) => w.taskId === `w-${r.taskId}`),
                )
                .map((r) => ({ id: `w-${r.taskId}`, input: `write up ${r.taskId}` })),
          },
        },
      }),
    );
    expect(report.stopReason).toBe('no-ready-tasks');
    expect(report.rounds.map((r) => r.dispatched)).toEqual([2, 3, 1]);
    const byRound = report.agents.map((a) => `${a.round}:${a.role}:${a.taskId}`);
    expect(byRound).toEqual([
      '1:researcher:researcher1',
      '1:researcher:researcher2',
      '2:researcher:researcher3',
      '2:writer:w-researcher1',
      '2:writer:w-researcher2',
      '3:writer:w-researcher3',
    ]);
    expect(events.filter((e) => e.type === 'round-started')).toHaveLength(3);
  });

  it('stops at maxRounds, and a batch that would cross the budget is not dispatched', async () => {
    const endless = { ready: (limit: number, { round }: { round: number }) => tasks(limit, `r${round}-`) };
    const { clock, fleet } = setup();
    const report = await drive(clock, fleet.runRounds({ maxRounds: 2, batchSize: 3, roles: { a: endless } }));
    expect(report.stopReason).toBe('max-rounds');
    expect(report.totals.succeeded).toBe(6);

    const budgeted = setup({
      budget: { maxTokens: 500 },
      estimate: { promptTokens: 80, completionTokens: 20 },
    });
    const capped = await drive(
      budgeted.clock,
      budgeted.fleet.runRounds({ maxRounds: 10, batchSize: 2, roles: { a: endless } }),
    );
    expect(capped.stopReason).toBe('budget');
    expect(capped.rounds).toHaveLength(2); // 400 spent; a third batch of 2 would make 600
    expect(capped.totals).toMatchObject({ succeeded: 4, skipped: 2, totalTokens: 400 });
  });

  it('formats the report as a table and writes metrics.json and the responses', async () => {
    const { clock, fleet } = setup({ model: 'gpt-4o-mini' });
    const results: import('../agent/types.js').TaskResult<unknown>[] = [];
    fleet.events$.subscribe((e) => e.type === 'task-finished' && results.push(e.result));
    const report = await drive(clock, fleet.run(tasks(2)));
    const text = formatReport(report);
    expect(text).toMatch(/^Run 'fleet': completed/);
    expect(text).toMatch(/tasks\s+done\s+failed\s+skipped\s+agents\s+LLM calls/);
    expect(text).toMatch(/estimate\s+3,000\s+1,000\s+4,000/);
    expect(text).toMatch(/actual\s+160\s+40\s+200/);
    const dir = await mkdtemp(join(tmpdir(), 'tollgate-report-'));
    const path = await writeReport(report, dir, { responses: results });
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    expect((await readdir(join(dir, 'responses'))).sort()).toEqual(['t1.md', 't2.md']);
    expect(await readFile(join(dir, 'responses', 't1.md'), 'utf8')).toMatch(/done/);
  });

  it('utilisation is measured against what the limit could admit over the run, so a full sliding window is at most 100%', async () => {
    // 7 starts at 3 per minute: at 0, 60 s and 120 s. The run spans three windows, not two.
    const { clock, fleet } = setup({ startsPerMinute: 3 });
    const report = await drive(clock, fleet.run(tasks(7)));
    const starts = report.limits.find((l) => l.name === 'agentStartsPerMinute')!;
    expect(report.durationMs).toBe(120_000);
    expect(starts).toMatchObject({ used: 7, capacity: 9 });
    expect(starts.utilisation).toBeCloseTo(7 / 9);
    expect(report.limits.every((l) => l.utilisation <= 1)).toBe(true);
    expect(formatReport(report)).not.toMatch(/above 100%/);
  });

  it('a utilisation above 100% is marked and explained in the table', async () => {
    const { clock, fleet } = setup();
    const report = await drive(clock, fleet.run(tasks(1)));
    const over = {
      ...report,
      limits: [{ ...report.limits[0]!, used: 1_200, capacity: 1_000, utilisation: 1.2 }],
    };
    const text = formatReport(over);
    expect(text).toMatch(/120\.0% \*/);
    expect(text).toMatch(/^\* above 100%: .*used more than they reserved.*monitor mode/m);
  });

  it('formatReport points to metrics.json only when told where it was written', async () => {
    const { clock, fleet } = setup();
    const report = await drive(clock, fleet.run(tasks(3)));
    expect(formatReport(report, { maxAgentRows: 1 })).toMatch(
      /^\.\.\. and 2 more rows not shown \(writeReport puts them all in metrics\.json\)$/m,
    );
    expect(formatReport(report, { maxAgentRows: 1, metricsPath: 'out/metrics.json' })).toMatch(
      /^\.\.\. and 2 more rows in out\/metrics\.json$/m,
    );
  });

  it('shows progress as plain lines when not on a terminal', async () => {
    const { clock, fleet } = setup({ startsPerMinute: 2 });
    const out: string[] = [];
    const progress = new FleetProgress(fleet, {
      clock,
      stream: { write: (s: string) => out.push(s), isTTY: false },
      plainIntervalMs: 30_000,
    }).start();
    await drive(clock, fleet.run(tasks(4)), 30_000);
    progress.stop();
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\x1b'))).toBe(true);
    expect(out[0]).toMatch(/^agents 2 started, 0 running, 2\/4 done \| requests 2\/1000 per min/);
    expect(out.at(-1)).toMatch(/agents 4 started, 0 running, 4\/4 done/);
    expect(out.some((l) => /ETA/.test(l))).toBe(true);
  });

  it('redraws one line in place on a terminal', async () => {
    const { clock, fleet } = setup();
    const out: string[] = [];
    const progress = new FleetProgress(fleet, {
      clock,
      stream: { write: (s: string) => out.push(s), isTTY: true },
    }).start();
    await drive(clock, fleet.run(tasks(1)), 250);
    progress.stop();
    expect(out[0]!.startsWith('\r\x1b[2K')).toBe(true);
    expect(out.at(-1)!.endsWith('\n')).toBe(true);
  });
});
