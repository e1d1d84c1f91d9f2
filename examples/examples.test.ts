import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { main as aiSdk } from './ai-sdk.js';
import { main as consensus } from './consensus.js';
import { main as conversations } from './conversations.js';
import { main as demo } from './demo.js';
import { main as gatewayExample } from './gateway.js';
import { main as governedFleet } from './governed-fleet.js';
import { main as governorBasics } from './governor-basics.js';
import { main as mixedProviders } from './mixed-providers.js';
import { main as researchAgent } from './research-agent.js';
import { main as rounds } from './research-writer-rounds.js';
import { main as telemetry } from './telemetry.js';

it('governor-basics runs every task under the limits and prints its events', async () => {
  const lines: string[] = [];
  const result = await governorBasics({ tasks: 4, log: (l) => lines.push(l) });
  expect(result.completed).toBe(4);
  expect(result.events.acquired).toBe(4 + 8); // 4 task slots + 8 calls
  expect(result.events.settled).toBe(8);
  // 8 calls at 6 per (compressed) minute: the last two wait for the window.
  expect(result.events.queued).toBeGreaterThan(0);
  expect(result.elapsedMs).toBeGreaterThanOrEqual(1000);
  expect(lines.at(-1)).toMatch(/done: 4 tasks, 0 active/);
});

it.each([
  ['whole replies', false],
  ['streamed replies', true],
])(
  'governed-fleet (bare governed clients, %s) finishes every call with zero 429s against the simulator',
  async (_, stream) => {
    const lines: string[] = [];
    const result = await governedFleet({
      callers: 10,
      calls: 2,
      rpm: 7,
      windowMs: 200,
      stream,
      log: (l) => lines.push(l),
      env: {},
    });
    expect(result).toMatchObject({
      calls: 20,
      succeeded: 20,
      failed: 0,
      rateLimited: 0,
      providerRateLimited: 0,
    });
    expect(result.tokens).toBeGreaterThan(0); // every call settled with its usage
    expect(result.makespanMs).toBeGreaterThanOrEqual(result.minimumMs!);
    expect(lines[0]).toMatch(stream ? /streamed calls/ : /x 2 calls/);
    expect(lines.join('\n')).toMatch(/20\/20 succeeded/);
  },
);

it('mixed-providers runs OpenAI, Anthropic and Gemini agents in one fleet, each on its own quota, zero 429s', async () => {
  const lines: string[] = [];
  const outcome = await mixedProviders({ tasks: 4, windowMs: 300, log: (l) => lines.push(l) });
  for (const provider of ['openai', 'anthropic', 'gemini'] as const)
    expect(outcome[provider]).toEqual({ tasks: 4, completed: 4, admitted: 4, rateLimited: 0 });
  expect(lines.join('\n')).toMatch(/gemini +4\/4 completed, 0 429s/);
}, 60_000);

it('research-agent answers from its tools offline, on the scripted model', async () => {
  const lines: string[] = [];
  const results = await researchAgent({ log: (l) => lines.push(l), env: {} });
  expect(results.map((r) => r.status)).toEqual(['completed', 'completed']);
  expect(results[0]!.output).toBe(
    'According to the notes: A token bucket refills continuously and allows bursts up to its capacity.',
  );
  expect(results.map((r) => r.tools.map((t) => t.name))).toEqual([
    ['search_notes', 'read_note'],
    ['search_notes', 'read_note'],
  ]);
  expect(lines.filter((l) => l.includes('read_note ok'))).toHaveLength(2);
});

it('research-agent runs against the simulator over HTTP', async () => {
  const results = await researchAgent({ simulator: true, log: () => {}, env: {} });
  expect(results.every((r) => r.status === 'completed')).toBe(true);
  expect(results.every((r) => r.llmCalls === 2 && r.toolCalls === 1 && r.usage.totalTokens > 0)).toBe(true);
  expect(results.every((r) => r.cost > 0)).toBe(true);
});

it('the demo: 50 agents x 3 calls on 7 requests per (compressed) minute finish with zero 429s and a report', async () => {
  const lines: string[] = [];
  const progress: string[] = [];
  const out = await mkdtemp(join(tmpdir(), 'tollgate-demo-'));
  const { report, providerRateLimited, minimumMs, metricsPath } = await demo({
    windowMs: 250,
    out,
    log: (l) => lines.push(l),
    progress: { write: (s: string) => progress.push(s), isTTY: false },
    env: {},
  });
  expect(report.stopReason).toBe('completed');
  expect(report.totals).toMatchObject({
    tasks: 50,
    agents: 50,
    succeeded: 50,
    failed: 0,
    llmCalls: 150,
    toolCalls: 100,
    rateLimited: 0,
  });
  expect(providerRateLimited).toBe(0);
  expect(report.durationMs).toBeGreaterThanOrEqual(minimumMs!);
  const text = lines.join('\n');
  expect(text).toMatch(/^estimate: [\d,]+ tokens/m);
  expect(text).toMatch(/429s: 0 seen by the agents, 0 sent by the provider/);
  expect(progress.at(-1)).toMatch(/agents 50 started, 0 running, 50\/50 done/);
  const written = JSON.parse(await readFile(metricsPath!, 'utf8'));
  expect(written.totals.succeeded).toBe(50);
  expect(written.limits.map((l: { name: string }) => l.name)).toEqual([
    'agentStartsPerMinute',
    'requestsPerMinute',
  ]);
});

it('the demo with streamed replies: every agent finishes, zero 429s, the same tool calls', async () => {
  const { report, providerRateLimited, minimumMs } = await demo({
    agents: 14,
    windowMs: 250,
    stream: true,
    log: () => {},
    progress: false,
    env: {},
  });
  expect(report.stopReason).toBe('completed');
  expect(report.totals).toMatchObject({ tasks: 14, succeeded: 14, failed: 0, llmCalls: 42, toolCalls: 28 });
  expect(report.totals.rateLimited).toBe(0);
  expect(providerRateLimited).toBe(0);
  expect(report.durationMs).toBeGreaterThanOrEqual(minimumMs!);
});

it.each(['anthropic', 'gemini'] as const)(
  'the demo on the %s protocol: every agent finishes, zero 429s',
  async (provider) => {
    const { report, providerRateLimited } = await demo({
      provider,
      agents: 14,
      windowMs: 250,
      log: () => {},
      progress: false,
      env: {},
    });
    expect(report.stopReason).toBe('completed');
    expect(report.totals).toMatchObject({ tasks: 14, succeeded: 14, failed: 0, llmCalls: 42, toolCalls: 28 });
    expect(report.totals.rateLimited).toBe(0);
    expect(providerRateLimited).toBe(0);
  },
);

it('research-writer-rounds: writers follow research round by round, and the token budget stops dispatch', async () => {
  const capped = await rounds({ log: () => {} });
  expect(capped.stopReason).toBe('budget');
  expect(capped.budget).toMatchObject({ maxTokens: 900, warned: true, stopped: true });
  expect(capped.totals.totalTokens).toBeLessThanOrEqual(900);
  expect(capped.totals.skipped).toBeGreaterThan(0);
  const full = await rounds({ maxTokens: 5_000, log: () => {} });
  expect(full.stopReason).toBe('no-ready-tasks');
  expect(full.rounds.map((r) => r.dispatched)).toEqual([2, 4, 2]);
  expect(full.agents.filter((a) => a.role === 'writer')).toHaveLength(4);
});

it('consensus: three agents vote, the majority of normalised answers wins, votes stream', async () => {
  const lines: string[] = [];
  const result = await consensus(undefined, (l) => lines.push(l));
  expect(result).toMatchObject({
    decision: 'A sliding window.',
    normalized: 'sliding window',
    method: 'majority',
  });
  expect(lines.slice(0, 3)).toEqual([
    'vote from bold: The token bucket (0.6)',
    'vote from middle: sliding window (0.8)',
    'vote from careful: A sliding window. (0.9)',
  ]);
});

it('ai-sdk: a fleet of AI SDK generateText calls under one quota, zero 429s, the governor events printed', async () => {
  const lines: string[] = [];
  const result = await aiSdk({ calls: 14, rpm: 7, windowMs: 300, log: (l) => lines.push(l), env: {} });
  expect(result).toMatchObject({ calls: 14, succeeded: 14, providerRateLimited: 0 });
  expect(result.events).toMatchObject({ acquired: 14, settled: 14, queued: 7 });
  expect(result.tokens).toBeGreaterThan(0);
  expect(result.makespanMs).toBeGreaterThanOrEqual(result.minimumMs!);
  expect(lines.filter((l) => /^\s+\d+ ms {2}settled {3}lease \d+: \d+ in \+ \d+ out$/.test(l))).toHaveLength(
    14,
  );
  expect(lines.join('\n')).toMatch(/14\/14 succeeded/);
});

it('telemetry: a fleet on the simulator reports its calls as metrics at /metrics and as GenAI spans', async () => {
  const result = await telemetry({ agents: 3, log: () => {} });
  expect(result.calls).toBe(6);
  // Each agent's own governor: its task slot, two calls and a tool call.
  expect(result.metrics).toContain('tollgate_admissions_total{governor="agents"} 12');
  expect(result.metrics.filter((l) => l.startsWith('tollgate_admissions_total{governor="provider:'))).toEqual(
    ['tollgate_admissions_total{governor="provider:openai:gpt-4o-mini"} 6'],
  );
  expect(result.spans.filter((s) => s === 'chat gpt-4o-mini')).toHaveLength(6);
  expect(result.spans.filter((s) => s === 'invoke_agent Analyst')).toHaveLength(3);
});

it('conversations streams 3 agents x 2 turns from a gateway on the simulator and ends with the consensus', async () => {
  const lines: string[] = [];
  const { messages, result } = await conversations((l) => lines.push(l));
  expect(messages.map((m) => m.type).filter((t) => t === 'agent_response')).toHaveLength(6);
  expect(result.metadata).toMatchObject({ status: 'completed', turns_completed: 2 });
  expect(result.agent_responses).toHaveLength(6);
  expect(lines.at(-1)).toMatch(/^completed in .* tokens/);
}, 120_000);

it('gateway: the OpenAI, Anthropic and Gemini SDKs through one gateway, each admission in /metrics', async () => {
  const result = await gatewayExample({ log: () => {} });
  for (const text of Object.values(result.answers)) expect(text.length).toBeGreaterThan(0);
  for (const governor of ['provider', 'provider:anthropic', 'provider:gemini'])
    expect(result.admissions).toContain(`tollgate_admissions_total{governor="${governor}"} 1`);
  expect(result.admissions).toContain('tollgate_admissions_total{governor="key:example-app"} 3');
}, 60_000);
