import { expect, it } from 'vitest';
import { main as governorBasics } from './governor-basics.js';

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
