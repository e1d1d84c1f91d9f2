import { ManualClock } from '@tollgate/core';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { SimulatorOptions } from './options.js';
import { formatReset } from './quota.js';
import { type Simulator, startSimulator } from './server.js';

const sims: Simulator[] = [];
async function start(options: SimulatorOptions = {}) {
  const sim = await startSimulator({ latency: { ttftMs: 2, perTokenMs: 0, jitter: 0 }, ...options });
  sims.push(sim);
  return { sim, client: new OpenAI({ baseURL: sim.baseURL, apiKey: 'sk-test', maxRetries: 0 }) };
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()));
});

/**
 * Awaits a call to a simulator on a ManualClock, firing the simulator's timers (its
 * latency) as they fall due: its clock moves only by them, however slow the machine.
 */
async function onClock<T>(clock: ManualClock, call: Promise<T>): Promise<T> {
  let done = false;
  call.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) if (!(await clock.runNext())) await new Promise((r) => setImmediate(r));
  return call;
}

const ask = (content: string) => ({
  model: 'sim-small',
  messages: [{ role: 'user' as const, content }],
  max_tokens: 50,
});

describe('simulator over HTTP with the openai client', () => {
  it('answers chat completions deterministically, with usage and rate-limit headers', async () => {
    const { client } = await start({ quota: { requestsPerWindow: 10, tokensPerWindow: 10_000 } });
    const { data, response } = await client.chat.completions.create(ask('hello')).withResponse();
    expect(data.choices[0]!.message.content).toMatch(/\w+/);
    expect(data.usage!.completion_tokens).toBeGreaterThan(0);
    expect(data.usage!.completion_tokens).toBeLessThanOrEqual(50);
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('10');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('9');
    expect(Number(response.headers.get('x-ratelimit-remaining-tokens'))).toBe(
      10_000 - (data.usage!.prompt_tokens + 50),
    );
    expect(response.headers.get('x-request-id')).toMatch(/^req_sim_/);
    const again = await client.chat.completions.create(ask('hello'));
    expect(again.choices[0]!.message.content).toBe(data.choices[0]!.message.content);
    expect((await client.models.list()).data.map((m) => m.id)).toContain('sim-small');
  });

  it('rejects a wrong key with 401', async () => {
    const { sim } = await start({ apiKeys: ['sk-right'] });
    const wrong = new OpenAI({ baseURL: sim.baseURL, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(wrong.chat.completions.create(ask('x'))).rejects.toMatchObject({ status: 401 });
    expect(sim.stats().unauthorized).toBe(1);
  });

  it('enforces a strict request window with real 429s and retry headers', async () => {
    const clock = new ManualClock();
    const { sim, client } = await start({ quota: { requestsPerWindow: 3, windowMs: 60_000 }, clock });
    expect(sim.stats()).toMatchObject({ firstAdmissionMs: null, lastAdmissionMs: null });
    for (let i = 0; i < 3; i++) await onClock(clock, client.chat.completions.create(ask(`q${i}`)));
    const { firstAdmissionMs, lastAdmissionMs } = sim.stats();
    // Three calls one after another: the last admission comes two latencies (2 ms each) later.
    expect(lastAdmissionMs! - firstAdmissionMs!).toBe(4);
    const error = await onClock(clock, client.chat.completions.create(ask('q4'))).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const headers = (error as InstanceType<typeof OpenAI.RateLimitError>).headers;
    // The first admission leaves the window 60 s after it; the refusal comes three latencies after it.
    expect(Number(headers.get('retry-after-ms'))).toBe(60_000 - 6);
    expect(headers.get('retry-after')).toBe('60');
    expect(headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(sim.stats()).toMatchObject({
      admitted: 3,
      rateLimited: 1,
      maxRequestsInWindow: 3,
      lastAdmissionMs,
    });
  });

  it('charges prompt + max output tokens at admission', async () => {
    const { sim, client } = await start({ quota: { tokensPerWindow: 200 } });
    await client.chat.completions.create({ ...ask('hi'), max_tokens: 150 });
    await expect(client.chat.completions.create({ ...ask('hi'), max_tokens: 150 })).rejects.toMatchObject({
      status: 429,
    });
    await expect(client.chat.completions.create({ ...ask('hi'), max_tokens: 500 })).rejects.toMatchObject({
      status: 400,
    });
    expect(sim.stats().tokens.charged).toBeGreaterThan(150);
  });

  it('enforces sub-windows: 60 per minute as 1 per second', async () => {
    const clock = new ManualClock();
    const { client } = await start({ quota: { requestsPerWindow: 60, subWindows: 60 }, clock });
    await onClock(clock, client.chat.completions.create(ask('a')));
    await expect(onClock(clock, client.chat.completions.create(ask('b')))).rejects.toMatchObject({
      status: 429,
    });
  });

  it('streams SSE chunks with a final usage chunk', async () => {
    const { client } = await start();
    const stream = await client.chat.completions.create({
      ...ask('stream please'),
      max_tokens: 500,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text.length).toBeGreaterThan(0);
    expect(finish).toBe('stop');
    expect(usage!.completion_tokens).toBeGreaterThan(0);
  });

  it('calls a tool first, then answers once the tool result is in', async () => {
    const { client } = await start();
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'search',
          parameters: {
            type: 'object',
            properties: { query: { type: 'string' }, limit: { type: 'integer' } },
            required: ['query'],
          },
        },
      },
    ];
    const first = await client.chat.completions.create({ ...ask('find x'), tools });
    const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.function.name).toBe('search');
    expect(Object.keys(JSON.parse(call.function.arguments))).toEqual(['query']);
    const second = await client.chat.completions.create({
      ...ask('find x'),
      max_tokens: 500,
      tools,
      messages: [
        { role: 'user', content: 'find x' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: 'x is 42' },
      ],
    });
    expect(second.choices[0]!.finish_reason).toBe('stop');
    expect(second.choices[0]!.message.content).toMatch(/\w/);
  });

  it('with toolTurns: 2, calls tools in two turns before answering', async () => {
    const { client } = await start({ toolTurns: 2 });
    const tools = [
      {
        type: 'function' as const,
        function: { name: 'look', parameters: { type: 'object', properties: {} } },
      },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'look twice' }];
    const finishes: string[] = [];
    for (let turn = 0; turn < 3; turn++) {
      const reply = await client.chat.completions.create({ ...ask('x'), max_tokens: 500, tools, messages });
      const choice = reply.choices[0]!;
      finishes.push(choice.finish_reason);
      if (!choice.message.tool_calls) break;
      messages.push(choice.message, {
        role: 'tool',
        tool_call_id: choice.message.tool_calls[0]!.id,
        content: 'seen',
      });
    }
    expect(finishes).toEqual(['tool_calls', 'tool_calls', 'stop']);
  });

  it('injects faults: 500s, 503s, resets and foreign 429s', async () => {
    const { sim, client } = await start({ faults: { error500: 1 } });
    await expect(client.chat.completions.create(ask('x'))).rejects.toMatchObject({ status: 500 });
    const reset = await start({ faults: { reset: 1 } });
    await expect(reset.client.chat.completions.create(ask('x'))).rejects.toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
    const foreign = await start({ faults: { foreign429: 1, foreign429RetryAfterMs: 2500 } });
    const error = await foreign.client.chat.completions.create(ask('x')).catch((e: unknown) => e);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after-ms')).toBe('2500');
    expect(foreign.sim.stats()).toMatchObject({ admitted: 0, rateLimited: 0, faults: { foreign429: 1 } });
    expect(sim.stats().faults.error500).toBe(1);
    const stats = await fetch(`${sim.url}/stats`).then((r) => r.json());
    expect(stats).toMatchObject({ requests: 1, faults: { error500: 1 } });
  });

  it('stops at max_tokens with finish_reason length', async () => {
    const { client } = await start({ completionTokens: [80, 80] });
    const reply = await client.chat.completions.create({ ...ask('long'), max_tokens: 10 });
    expect(reply.choices[0]!.finish_reason).toBe('length');
    expect(reply.usage!.completion_tokens).toBeLessThanOrEqual(10);
  });

  it('formats reset durations like OpenAI', () => {
    expect(formatReset(20)).toBe('20ms');
    expect(formatReset(1500)).toBe('1.5s');
    expect(formatReset(360_000)).toBe('6m0s');
  });
});
