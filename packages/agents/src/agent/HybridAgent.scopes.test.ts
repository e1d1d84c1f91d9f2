import { getEventListeners } from 'node:events';
import { AbortError, HeuristicTokenCounter, ManualClock } from '@tollgate/core';
import { ResourceGovernor } from '@tollgate/limits';
import { type ChatRequest, ScriptedClient, type ScriptedReply } from '@tollgate/llm-clients';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../tools/defineTool.js';
import { HybridAgent } from './HybridAgent.js';

const counter = new HeuristicTokenCounter();
const TASKS = 1_000;

const echo = defineTool({
  name: 'echo',
  description: 'Says it back',
  parameters: z.object({ text: z.string() }),
  execute: ({ text }) => text,
});

class Echoer extends HybridAgent {
  readonly systemPrompt = 'Echo.';
  override readonly tools = [echo];
}

/** Odd tasks answer at once; even ones call the tool first. */
function script(request: ChatRequest): ScriptedReply {
  const last = request.messages.at(-1);
  if (last?.role === 'tool') return { content: 'done' };
  const task = Number(String(last?.content).slice(5));
  if (task % 2 === 1) return { content: 'done' };
  return { content: null, toolCalls: [{ id: `c${task}`, name: 'echo', arguments: { text: 'hi' } }] };
}

describe('HybridAgent abort scopes', () => {
  it('leaves no listener on the caller’s signal or the provider after thousands of tasks, with and without tools', async () => {
    const provider = new ResourceGovernor({ maxConcurrentTasks: 100_000 }, { name: 'provider' });
    const client = new ScriptedClient({ script, tokenCounter: counter });
    const agent = new Echoer({
      client,
      tokenCounter: counter,
      providerGovernor: provider,
      limits: { maxConcurrentTasks: 500 },
    });
    const caller = new AbortController();
    const tasks = Array.from({ length: TASKS }, (_, i) =>
      agent.executeTask(`task ${i}`, { signal: caller.signal }),
    );
    // While they run, the caller's signal carries one listener, however many tasks listen.
    expect(getEventListeners(caller.signal, 'abort').length).toBeLessThanOrEqual(1);
    const results = await Promise.all(tasks);
    expect(results.filter((r) => r.ok)).toHaveLength(TASKS);
    expect(results.filter((r) => r.toolCalls === 1)).toHaveLength(TASKS / 2);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(agent.activeTasks).toBe(0);
    expect(agent.governor.activeTasks).toBe(0);
    expect(provider.queued).toBe(0);
    agent.dispose();
    provider.dispose();
  });

  it('a caller’s abort reaches a call waiting in the provider queue, and its listener goes', async () => {
    const clock = new ManualClock();
    const provider = new ResourceGovernor({ maxRequestsPerMinute: 1 }, { clock, name: 'provider' });
    const client = new ScriptedClient({ script: () => ({ content: 'ok' }), clock, tokenCounter: counter });
    const agent = new Echoer({ client, clock, tokenCounter: counter, providerGovernor: provider });
    const first = await agent.executeTask('task 1');
    expect(first.ok).toBe(true);
    const caller = new AbortController();
    const waiting = agent.executeTask('task 3', { signal: caller.signal });
    await clock.advanceAsync(0);
    expect(provider.queued).toBe(1);
    caller.abort(new AbortError('the caller gave up'));
    const result = await waiting;
    expect(result.status).toBe('aborted');
    expect(result.error?.message).toContain('the caller gave up');
    expect(provider.queued).toBe(0);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    agent.dispose();
    provider.dispose();
  });

  it('a task timeout still fires when the caller gives no signal', async () => {
    const clock = new ManualClock();
    const client = new ScriptedClient({
      script: () => ({ content: 'ok' }),
      clock,
      tokenCounter: counter,
      delayMs: 1_000,
    });
    const agent = new Echoer({ client, clock, tokenCounter: counter });
    const running = agent.executeTask('task 1', { taskTimeoutMs: 100 });
    await clock.advanceAsync(100);
    const result = await running;
    expect(result.status).toBe('timeout');
    expect(agent.governor.activeTasks).toBe(0);
    agent.dispose();
  });
});
