import { type CountableMessage, HeuristicTokenCounter, ManualClock, TokenCountError } from '@tollgate/core';
import type { ResourceLimits } from '@tollgate/limits';
import { ScriptedClient, type ScriptedReply } from '@tollgate/llm-clients';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from '../tools/defineTool.js';
import { DEFAULT_MAX_TOOL_RESULT_CHARS } from '../tools/runTool.js';
import { type AnyTool, HybridAgent } from './HybridAgent.js';

const counter = new HeuristicTokenCounter();

function agentWith(
  tools: readonly AnyTool[],
  script: readonly ScriptedReply[],
  limits: ResourceLimits = {},
  settings: { maxToolResultChars?: number } = {},
) {
  const clock = new ManualClock();
  class Worker extends HybridAgent {
    readonly systemPrompt = 'Work.';
    override readonly tools = tools;
    override readonly maxToolResultChars = settings.maxToolResultChars ?? DEFAULT_MAX_TOOL_RESULT_CHARS;
  }
  const client = new ScriptedClient({ script, clock, tokenCounter: counter });
  const agent = new Worker({ client, clock, tokenCounter: counter, limits });
  return { agent, client, clock };
}

const calls = (name: string, n: number) => Array.from({ length: n }, (_, i) => ({ name, arguments: { i } }));

describe('HybridAgent: how a task ends with its tools', () => {
  it('a refused tool call aborts its siblings and the slot is freed only once they have stopped', async () => {
    const signals: AbortSignal[] = [];
    let running = 0;
    const clock = { current: undefined as ManualClock | undefined };
    // Runs 10 s, or stops 100 ms after its signal aborts (a cleanup that takes time).
    const slow = defineSlow('slow', (signal) => {
      signals.push(signal);
      running++;
      return new Promise<string>((resolve) => {
        const done = () => {
          running--;
          resolve('done');
        };
        const timer = clock.current!.setTimeout(done, 10_000);
        signal.addEventListener('abort', () => {
          clock.current!.clearTimeout(timer);
          clock.current!.setTimeout(done, 100);
        });
      });
    });
    const { agent, clock: manual } = agentWith(
      [slow],
      [{ toolCalls: calls('slow', 3) }, { content: 'final' }],
      { maxToolCallsPerMinute: 2, resourceWaitTimeoutSeconds: 1 },
    );
    clock.current = manual;
    let settled = false;
    const pending = agent.executeTask('go').finally(() => (settled = true));
    await manual.advanceAsync(1_000); // the third call's wait times out
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(settled).toBe(false);
    expect(agent.governor.activeTasks).toBe(1);
    await manual.advanceAsync(100);
    const result = await pending;
    expect(result.status).toBe('rejected');
    expect(running).toBe(0);
    expect(agent.governor.activeTasks).toBe(0);
    expect(agent.governor.queued).toBe(0);
  });

  it('on a task timeout executeTask resolves only once the aborted tools have stopped', async () => {
    let stopped = false;
    const box = { clock: undefined as ManualClock | undefined };
    // Stops 100 ms after its signal aborts.
    const slow = defineSlow('slow', (signal) => {
      return new Promise<string>((resolve) =>
        signal.addEventListener('abort', () =>
          box.clock!.setTimeout(() => {
            stopped = true;
            resolve('stopped');
          }, 100),
        ),
      );
    });
    const { agent, clock } = agentWith([slow], [{ toolCalls: calls('slow', 1) }, { content: 'final' }], {
      taskTimeoutSeconds: 1,
    });
    box.clock = clock;
    let settled = false;
    const pending = agent.executeTask('go').finally(() => (settled = true));
    await clock.advanceAsync(1_000);
    expect(settled).toBe(false);
    await clock.advanceAsync(100);
    const result = await pending;
    expect(result.status).toBe('timeout');
    expect(stopped).toBe(true);
  });

  it('a tool that ignores its aborted signal holds the ended task at most toolStopGraceMs', async () => {
    const deaf = defineSlow('deaf', () => new Promise<string>(() => {}));
    const { agent, clock } = agentWith([deaf], [{ toolCalls: calls('deaf', 2) }, { content: 'final' }], {
      maxToolCallsPerMinute: 1,
      resourceWaitTimeoutSeconds: 1,
    });
    let settled = false;
    const pending = agent.executeTask('go').finally(() => (settled = true));
    await clock.advanceAsync(1_000);
    await clock.advanceAsync(agent.toolStopGraceMs - 1);
    expect(settled).toBe(false);
    expect(agent.governor.activeTasks).toBe(1);
    await clock.advanceAsync(1);
    expect((await pending).status).toBe('rejected');
    expect(agent.governor.activeTasks).toBe(0);
  });

  it('a result that cannot be turned into text goes back to the model as an error; the task goes on', async () => {
    const evil = defineSlow('evil', () =>
      Promise.resolve({
        toJSON() {
          throw new Error('no json');
        },
        toString() {
          throw new Error('no string');
        },
      }),
    );
    const cyclic = defineSlow('cyclic', () => {
      const node: Record<string, unknown> = {};
      node.self = node;
      return Promise.resolve(node);
    });
    const { agent, client } = agentWith(
      [evil, cyclic],
      [{ toolCalls: [...calls('evil', 1), ...calls('cyclic', 1)] }, { content: 'final' }],
    );
    const result = await agent.executeTask('go');
    expect(result.status).toBe('completed');
    expect(result.tools.map((t) => [t.name, t.ok, t.errorCode])).toEqual([
      ['evil', false, 'TOOL_RESULT_UNSERIALISABLE'],
      ['cyclic', false, 'TOOL_RESULT_UNSERIALISABLE'],
    ]);
    const replies = client.calls[1]!.messages.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(replies[0]).toBe("Error: Tool 'evil' returned a result that cannot be turned into text: no json");
    expect(replies[1]).toMatch(/^Error: Tool 'cyclic' returned a result that cannot be turned into text: /);
  });

  it('a huge result is cut at maxToolResultChars with a marker saying how long it was', async () => {
    const huge = defineSlow('huge', () => Promise.resolve('x'.repeat(5_000_000)));
    const { agent, client } = agentWith([huge], [{ toolCalls: calls('huge', 1) }, { content: 'final' }]);
    const result = await agent.executeTask('go');
    expect(result.status).toBe('completed');
    const reply = client.calls[1]!.messages.find((m) => m.role === 'tool')!.content as string;
    expect(agent.maxToolResultChars).toBe(20_000);
    expect(reply).toBe(
      `${'x'.repeat(20_000)}\n[truncated: the result has 5000000 characters; the first 20000 are shown]`,
    );
  });

  it('a token counter that traps on a tool result ends the task with a typed TokenCountError', async () => {
    const clock = new ManualClock();
    const text = defineSlow('text', () => Promise.resolve('hostile'));
    class Worker extends HybridAgent {
      readonly systemPrompt = 'Work.';
      override readonly tools = [text];
    }
    // Counts fine until a tool result is in the conversation, then traps as a WebAssembly tokenizer can.
    const trapping = {
      countText: (t: string) => counter.countText(t),
      countMessages: (messages: readonly CountableMessage[]) => {
        if (messages.some((m) => m.content === 'hostile')) throw trap();
        return counter.countMessages(messages);
      },
    };
    const client = new ScriptedClient({
      script: [{ toolCalls: calls('text', 1) }, { content: 'final' }],
      clock,
      tokenCounter: counter,
    });
    const agent = new Worker({ client, clock, tokenCounter: trapping });
    const result = await agent.executeTask('go');
    expect(result.status).toBe('failed');
    expect(TokenCountError.is(result.error)).toBe(true);
    expect(result.error?.message).toBe("Counting tokens with the agent's token counter failed: unreachable");
  });

  it('maxToolResultChars is the agent’s to set', async () => {
    const long = defineSlow('long', () => Promise.resolve({ text: 'abcdefghij' }));
    const { agent, client } = agentWith(
      [long],
      [{ toolCalls: calls('long', 1) }, { content: 'final' }],
      {},
      { maxToolResultChars: 5 },
    );
    await agent.executeTask('go');
    const reply = client.calls[1]!.messages.find((m) => m.role === 'tool')!.content;
    expect(reply).toBe('{"tex\n[truncated: the result has 21 characters; the first 5 are shown]');
  });
});

function defineSlow(name: string, run: (signal: AbortSignal) => Promise<unknown>): AnyTool {
  return defineTool({
    name,
    description: name,
    parameters: z.object({ i: z.number().optional() }),
    timeoutMs: 60_000,
    execute: (_args, { signal }) => run(signal),
  });
}

/** What a WebAssembly tokenizer throws when it traps. */
function trap(): Error {
  const error = new Error('unreachable');
  error.name = 'RuntimeError';
  return error;
}
