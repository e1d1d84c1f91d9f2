import { expect, it } from 'vitest';
import { main as governedFleet } from './governed-fleet.js';
import { main as governorBasics } from './governor-basics.js';
import { main as researchAgent } from './research-agent.js';

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

it('governed-fleet (the demo, small) finishes every call with zero 429s against the simulator', async () => {
  const lines: string[] = [];
  const result = await governedFleet({
    callers: 10,
    calls: 2,
    rpm: 7,
    windowMs: 200,
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
  expect(result.makespanMs).toBeGreaterThanOrEqual(result.minimumMs!);
  expect(lines.join('\n')).toMatch(/20\/20 succeeded/);
});

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
