import {
  DisposedError,
  flushMicrotasks,
  HeuristicTokenCounter,
  ManualClock,
  ResourceLimitExceededError,
  TaskTimeoutError,
} from '@tollgate/core';
import { ResourceGovernor, type ResourceLimits, StaticMemoryProbe } from '@tollgate/limits';
import {
  type CallOptions,
  type ChatRequest,
  type ChatResponse,
  type LLMClient,
  ScriptedClient,
  type ScriptedClientOptions,
} from '@tollgate/llm-clients';
import { NEVER, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidToolArgumentsError, MaxIterationsExceededError } from '../errors.js';
import { defineTool } from '../tools/defineTool.js';
import { HybridAgent } from './HybridAgent.js';
import type { AgentDeps, AgentEvent } from './types.js';

const notes = ['tollgates charge every call', 'quotas reset each minute', 'burst lets a bucket run ahead'];

const search = defineTool({
  name: 'search',
  description: 'Finds notes containing a word',
  parameters: z.object({ query: z.string().min(1) }),
  execute: ({ query }) => notes.filter((n) => n.includes(query)),
});

const wordCount = defineTool({
  name: 'word_count',
  description: 'Counts the words of a text',
  parameters: z.object({ text: z.string() }),
  execute: ({ text }) => ({ words: text.split(/\s+/).filter(Boolean).length }),
});

class Researcher extends HybridAgent {
  readonly systemPrompt = 'You answer from the notes, using the tools.';
  override readonly tools = [search, wordCount];
}

const counter = new HeuristicTokenCounter();

function setup(
  script: ScriptedClientOptions['script'],
  limits: ResourceLimits = {},
  deps: Partial<AgentDeps> = {},
  delayMs = 0,
) {
  const clock = deps.clock instanceof ManualClock ? deps.clock : new ManualClock();
  const client = new ScriptedClient({ script, clock, tokenCounter: counter, delayMs });
  const agent = new Researcher({ client, limits, clock, tokenCounter: counter, ...deps });
  const events: AgentEvent[] = [];
  agent.events$.subscribe((e) => events.push(e));
  return { clock, client, agent, events };
}

/** A client whose calls never answer; it records each call's signal. */
class HangingClient implements LLMClient {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'hanging';
  readonly model = 'hanging';
  readonly signals: AbortSignal[] = [];
  chat(_request: ChatRequest, options: CallOptions = {}): Promise<ChatResponse> {
    this.signals.push(options.signal!);
    return new Promise((_resolve, reject) =>
      options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true }),
    );
  }
  stream(): Observable<never> {
    return NEVER;
  }
}

describe('HybridAgent', () => {
  it('loops through parallel tool calls to a final answer and reports usage, calls and cost', async () => {
    const { agent, client, events } = setup([
      {
        toolCalls: [
          { name: 'search', arguments: { query: 'quota' } },
          { name: 'word_count', arguments: { text: 'one two three' } },
        ],
        usage: { promptTokens: 100, completionTokens: 20 },
      },
      { content: 'Quotas reset each minute.', usage: { promptTokens: 150, completionTokens: 10 } },
    ]);
    const result = await agent.executeTask({ id: 't1', input: 'When do quotas reset?' });

    expect(result.status).toBe('completed');
    expect(result.ok).toBe(true);
    expect(result.output).toBe('Quotas reset each minute.');
    expect(result.llmCalls).toBe(2);
    expect(result.toolCalls).toBe(2);
    expect(result.iterations).toBe(2);
    expect(result.usage).toEqual({ promptTokens: 250, completionTokens: 30, totalTokens: 280 });
    expect(result.tools.map((t) => [t.name, t.ok])).toEqual([
      ['search', true],
      ['word_count', true],
    ]);
    // The second call saw both tool results, in the order of the calls, and was offered the tools.
    const second = client.calls[1]!;
    expect(second.tools?.map((t) => t.name)).toEqual(['search', 'word_count']);
    expect(second.tools?.[0]?.parameters).toMatchObject({
      type: 'object',
      properties: { query: { type: 'string' } },
      required: ['query'],
    });
    const toolMessages = second.messages.filter((m) => m.role === 'tool');
    expect(toolMessages.map((m) => m.content)).toEqual(['["quotas reset each minute"]', '{"words":3}']);
    expect(result.messages.at(-1)).toEqual({ role: 'assistant', content: 'Quotas reset each minute.' });
    expect(events.filter((e) => e.type !== 'governor' && e.type !== 'client').map((e) => e.type)).toEqual([
      'task-started',
      'llm-call',
      'tool-call',
      'tool-call',
      'llm-call',
      'task-finished',
    ]);
  });

  it('prices usage by model, with table overrides and dated model names', async () => {
    const { agent } = setup(
      [{ content: 'ok', usage: { promptTokens: 1_000_000, completionTokens: 1_000 } }],
      {},
      { pricing: { scripted: { inputPerMillion: 1, outputPerMillion: 2_000 } } },
    );
    const result = await agent.executeTask('price me');
    expect(result.cost).toBeCloseTo(1 + 2, 10);
  });

  it('sends malformed and invalid tool arguments back to the model as tool errors, not crashes', async () => {
    const { agent, client } = setup([
      {
        toolCalls: [
          { name: 'search', arguments: '{"query": ' },
          { name: 'search', arguments: { query: 42 } },
          { name: 'nope', arguments: {} },
        ],
      },
      { content: 'Sorry, the tools failed.' },
    ]);
    const result = await agent.executeTask('Search badly');
    expect(result.status).toBe('completed');
    expect(result.tools.map((t) => t.errorCode)).toEqual([
      InvalidToolArgumentsError.errorCode,
      InvalidToolArgumentsError.errorCode,
      'UNKNOWN_TOOL',
    ]);
    const replies = client.calls[1]!.messages.filter((m) => m.role === 'tool').map((m) => m.content);
    expect(replies[0]).toMatch(/^Error: Invalid arguments for tool 'search': not valid JSON/);
    expect(replies[1]).toMatch(/query: .*expected string/i);
    expect(replies[2]).toBe("Error: Unknown tool 'nope'; available: search, word_count");
  });

  it('reports a tool that throws or runs past its timeout to the model and in the result', async () => {
    const clock = new ManualClock();
    const flaky = defineTool({
      name: 'flaky',
      description: 'Always fails',
      parameters: z.object({}),
      execute: () => {
        throw new Error('disk on fire');
      },
    });
    let sawAbort = false;
    const slow = defineTool({
      name: 'slow',
      description: 'Never finishes',
      parameters: z.object({}),
      timeoutMs: 2_000,
      execute: (_args, { signal }) =>
        new Promise(() => signal.addEventListener('abort', () => (sawAbort = true))),
    });
    class Tinkerer extends HybridAgent {
      readonly systemPrompt = 'Tinker.';
      override readonly tools = [flaky, slow];
    }
    const client = new ScriptedClient({
      clock,
      tokenCounter: counter,
      script: [
        {
          toolCalls: [
            { name: 'flaky', arguments: {} },
            { name: 'slow', arguments: {} },
          ],
        },
        { content: 'done' },
      ],
    });
    const agent = new Tinkerer({ client, clock, tokenCounter: counter });
    const pending = agent.executeTask('go');
    await clock.advanceAsync(1_999);
    expect(sawAbort).toBe(false);
    await clock.advanceAsync(1);
    expect(sawAbort).toBe(true);
    // The timed-out tool ignores its signal: the ended task waits for it at most toolStopGraceMs.
    let settled = false;
    void pending.then(() => (settled = true));
    await clock.advanceAsync(agent.toolStopGraceMs - 1);
    expect(settled).toBe(false);
    await clock.advanceAsync(1);
    const result = await pending;
    expect(result.status).toBe('completed');
    expect(result.tools.map((t) => [t.name, t.ok, t.errorCode])).toEqual([
      ['flaky', false, 'TOOL_FAILED'],
      ['slow', false, 'TOOL_TIMEOUT'],
    ]);
    expect(result.tools[1]!.durationMs).toBe(2_000);
    expect(client.calls[1]!.messages.filter((m) => m.role === 'tool').map((m) => m.content)).toEqual([
      "Error: Tool 'flaky' failed: disk on fire",
      "Error: Tool 'slow' timed out after 2000 ms",
    ]);
  });

  it('enforces tool calls per minute: the call over the limit waits for the window', async () => {
    const ran: number[] = [];
    const clockRef: { clock?: ManualClock } = {};
    const stamp = defineTool({
      name: 'stamp',
      description: 'Records the time',
      parameters: z.object({}),
      execute: () => {
        ran.push(clockRef.clock!.now());
        return 'ok';
      },
    });
    class Stamper extends HybridAgent {
      readonly systemPrompt = 'Stamp.';
      override readonly tools = [stamp];
    }
    const clock = new ManualClock();
    clockRef.clock = clock;
    const client = new ScriptedClient({
      clock,
      tokenCounter: counter,
      script: [
        { toolCalls: [1, 2, 3].map(() => ({ name: 'stamp', arguments: {} })) },
        { content: 'stamped' },
      ],
    });
    const agent = new Stamper({
      client,
      clock,
      tokenCounter: counter,
      limits: { maxToolCallsPerMinute: 2, algorithm: 'sliding-window' },
    });
    const pending = agent.executeTask('stamp three times');
    await clock.advanceAsync(0);
    expect(ran).toEqual([0, 0]);
    await clock.advanceAsync(59_999);
    expect(ran).toEqual([0, 0]);
    await clock.advanceAsync(1);
    const result = await pending;
    expect(ran).toEqual([0, 0, 60_000]);
    expect(result.status).toBe('completed');
    expect(result.durationMs).toBe(60_000);
  });

  it('aborts the in-flight LLM call on task timeout and releases every lease', async () => {
    const clock = new ManualClock();
    const client = new HangingClient();
    const provider = new ResourceGovernor({ maxRequestsPerMinute: 10 }, { clock, name: 'provider' });
    class Waiter extends HybridAgent {
      readonly systemPrompt = 'Wait.';
    }
    const agent = new Waiter({
      client,
      clock,
      tokenCounter: counter,
      providerGovernor: provider,
      limits: { maxConcurrentTasks: 1, taskTimeoutSeconds: 5 },
    });
    const pending = agent.executeTask('hang');
    await clock.advanceAsync(0);
    expect(client.signals).toHaveLength(1);
    expect(agent.governor.activeTasks).toBe(1);
    await clock.advanceAsync(5_000);
    const result = await pending;
    expect(result.status).toBe('timeout');
    expect(TaskTimeoutError.is(result.error)).toBe(true);
    expect(client.signals[0]!.aborted).toBe(true);
    expect(agent.governor.activeTasks).toBe(0);
    // The provider may have admitted the call before the abort: it stays charged, held by no one.
    expect(provider.checkResourceAvailability().remaining.requestsPerMinute).toBe(9);
    expect(provider.queued).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('memory cap: new tasks wait while memory is over the cap, and start when it drops', async () => {
    const probe = new StaticMemoryProbe(900, 100);
    const { agent, clock } = setup([{ content: 'fine' }], { maxMemoryMb: 512 }, { memoryProbe: probe });
    const status = agent.checkResourceAvailability();
    expect(status.available).toBe(false);
    expect(status.reason).toMatch(/memory: 900 MB in use, cap 512 MB/);
    const pending = agent.executeTask('remember');
    let done = false;
    void pending.then(() => (done = true));
    await clock.advanceAsync(1_000);
    expect(done).toBe(false);
    probe.mb = 300;
    await clock.advanceAsync(100);
    const result = await pending;
    expect(result.status).toBe('completed');
    expect(result.queuedMs).toBeGreaterThanOrEqual(1_000);
    expect(result.queuedMs).toBeLessThanOrEqual(1_100);
  });

  it('reject mode fails fast with the reason; the running task is unaffected', async () => {
    const { agent, clock } = setup(
      [{ content: 'slow answer' }],
      { maxConcurrentTasks: 1, rejectOnLimit: true },
      {},
      1_000,
    );
    const first = agent.executeTask('first');
    await clock.advanceAsync(0);
    const second = await agent.executeTask('second');
    expect(second.status).toBe('rejected');
    expect(ResourceLimitExceededError.is(second.error)).toBe(true);
    expect(second.error?.message).toMatch(/task/i);
    expect(second.llmCalls).toBe(0);
    await clock.advanceAsync(1_000);
    expect((await first).status).toBe('completed');
  });

  it('monitor mode never blocks and says what would have been limited', async () => {
    const { agent, clock, events } = setup(
      () => ({ content: 'hi' }),
      { maxConcurrentTasks: 1, enforceLimits: false },
      {},
      1_000,
    );
    const tasks = [agent.executeTask('a'), agent.executeTask('b'), agent.executeTask('c')];
    await clock.advanceAsync(1_000);
    const results = await Promise.all(tasks);
    expect(results.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(results.map((r) => r.durationMs)).toEqual([1_000, 1_000, 1_000]);
    const wouldBlock = events.filter((e) => e.type === 'governor' && e.event.type === 'would-block');
    expect(wouldBlock).toHaveLength(2);
  });

  it("the shared provider governor's would-block and queued events about its own calls reach agent.events$", async () => {
    const clock = new ManualClock();
    const provider = new ResourceGovernor(
      { maxRequestsPerMinute: 1, enforceLimits: false },
      { clock, name: 'provider' },
    );
    const make = (agentId: string) =>
      setup(() => ({ content: 'hi' }), {}, { clock, providerGovernor: provider, agentId });
    const a = make('a');
    const b = make('b');
    await a.agent.executeTask('one'); // takes the provider's only request of the minute
    await b.agent.executeTask('two'); // would have been blocked: b's call, not a's
    const fromProvider = (events: AgentEvent[]) =>
      events.flatMap((e) =>
        e.type === 'governor' && e.event.governor === 'provider' ? [[e.event.type, e.agentId]] : [],
      );
    expect(fromProvider(a.events)).toEqual([]);
    expect(fromProvider(b.events)).toEqual([['would-block', 'b']]);
  });

  it('fails with a typed error after maxIterations of tool calls', async () => {
    class Looper extends HybridAgent {
      readonly systemPrompt = 'Loop.';
      override readonly tools = [search];
      override readonly maxIterations = 3;
    }
    const clock = new ManualClock();
    const client = new ScriptedClient({
      clock,
      tokenCounter: counter,
      script: () => ({ toolCalls: [{ name: 'search', arguments: { query: 'again' } }] }),
    });
    const result = await new Looper({ client, clock, tokenCounter: counter }).executeTask('loop forever');
    expect(result.status).toBe('failed');
    expect(MaxIterationsExceededError.is(result.error)).toBe(true);
    expect(result.llmCalls).toBe(3);
    expect(result.toolCalls).toBe(3);
  });

  it('disposed mid-task: the call is aborted, the result says aborted, nothing stays held', async () => {
    const clock = new ManualClock();
    const client = new HangingClient();
    const provider = new ResourceGovernor(
      { maxRequestsPerMinute: 5, maxConcurrentTasks: 10 },
      { clock, name: 'provider' },
    );
    class Waiter extends HybridAgent {
      readonly systemPrompt = 'Wait.';
    }
    const agent = new Waiter({
      client,
      clock,
      tokenCounter: counter,
      providerGovernor: provider,
      limits: { maxConcurrentTasks: 1 },
    });
    const events: AgentEvent[] = [];
    let completed = false;
    agent.events$.subscribe({ next: (e) => events.push(e), complete: () => (completed = true) });
    const running = agent.executeTask('running');
    const waiting = agent.executeTask('waiting for the slot');
    await clock.advanceAsync(0);
    expect(agent.governor.queued).toBe(1);
    agent.dispose();
    const [a, b] = await Promise.all([running, waiting]);
    expect(a.status).toBe('aborted');
    expect(DisposedError.is(a.error)).toBe(true);
    expect(b.status).toBe('aborted');
    expect(client.signals[0]!.aborted).toBe(true);
    // One call was sent (still charged, as the provider may have admitted it); the waiting task never called.
    expect(provider.checkResourceAvailability().remaining.requestsPerMinute).toBe(4);
    expect(provider.queued).toBe(0);
    expect(agent.governor.activeTasks).toBe(0);
    await flushMicrotasks();
    expect(events.filter((e) => e.type === 'task-finished')).toHaveLength(2);
    expect(completed).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    // A disposed agent takes no new work.
    const late = await agent.executeTask('late');
    expect(late.status).toBe('aborted');
    expect(provider.disposed).toBe(false);
  });

  it('cancels a task with the caller signal', async () => {
    const clock = new ManualClock();
    const client = new HangingClient();
    class Waiter extends HybridAgent {
      readonly systemPrompt = 'Wait.';
    }
    const agent = new Waiter({ client, clock, tokenCounter: counter });
    const controller = new AbortController();
    const pending = agent.executeTask('cancel me', { signal: controller.signal });
    await clock.advanceAsync(0);
    controller.abort();
    const result = await pending;
    expect(result.status).toBe('aborted');
    expect(client.signals[0]!.aborted).toBe(true);
  });

  it('reports availability of both layers and waits for them', async () => {
    const clock = new ManualClock();
    const provider = new ResourceGovernor(
      { maxRequestsPerMinute: 1, algorithm: 'sliding-window' },
      { clock },
    );
    const { agent } = setup([{ content: 'x' }], {}, { clock, providerGovernor: provider });
    expect(agent.checkResourceAvailability().available).toBe(true);
    provider.tryAcquire({ requests: 1 })!.release();
    const status = agent.checkResourceAvailability();
    expect(status.available).toBe(false);
    expect(status.reason).toMatch(/^provider: /);
    expect(status.provider?.remaining).toEqual({ requestsPerMinute: 0 });
    const ready = agent.waitForResources(120_000);
    await clock.advanceAsync(60_000);
    expect(await ready).toBe(true);
    expect(await agent.waitForResources(0)).toBe(true);
  });

  it('parses output with the hook; a parse failure fails the task with a typed error', async () => {
    class Scorer extends HybridAgent<number> {
      readonly systemPrompt = 'Reply with a number.';
      protected override parseOutput(content: string): number {
        const n = Number(content);
        if (Number.isNaN(n)) throw new Error(`not a number: ${content}`);
        return n;
      }
    }
    const clock = new ManualClock();
    const client = new ScriptedClient({
      clock,
      tokenCounter: counter,
      script: [{ content: '42' }, { content: 'x' }],
    });
    const agent = new Scorer({ client, clock, tokenCounter: counter });
    expect((await agent.executeTask('score')).output).toBe(42);
    const bad = await agent.executeTask('score');
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatchObject({ code: 'OUTPUT_PARSE_FAILED' });
  });
});
